"""How quickly a lesson answers, driven through a pipe as a learner's keystrokes would be.
In lesson 3's first `try` step it times `topics` (against the same command outside a lesson),
`check` while the goal is not met, and the command that meets the goal to its "goal reached".
Prints a Markdown table of medians. Usage: lesson.py BINARY ROUNDS"""
import queue
import statistics
import sys
import time

from pipe import Pipe

SOLUTION = "produce keyed-orders '{\"order\": 1, \"till\": 2}' --key till-2"


class Repl(Pipe):
    def until(self, text, limit=30.0):
        """The time the first line containing `text` arrived."""
        deadline = time.perf_counter() + limit
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise SystemExit(f"no line with {text!r} within {limit} s")
            try:
                at, line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if text in line:
                return at

    def timed(self, line, answer):
        sent = self.send(line)
        return self.until(answer) - sent


def one_round(binary):
    repl = Repl(binary)
    repl.timed("topics", "no topics")  # the first answer also waits for the broker to start
    outside = repl.timed("topics", "no topics")
    repl.send("lesson 3")
    repl.until("Keys and partitioning")
    while True:
        repl.send("next")
        try:
            repl.until("your turn", limit=2.0)
            break
        except SystemExit:
            continue
    inside = repl.timed("topics", "| keyed-orders")
    check = repl.timed("check", "not yet:")
    sent = repl.send(SOLUTION)
    produced = repl.until("| PARTITION") - sent
    reached = repl.until("goal reached") - sent
    repl.close()
    return outside, inside, check, produced, reached


def main():
    binary, rounds = sys.argv[1], int(sys.argv[2])
    results = [one_round(binary) for _ in range(rounds)]
    columns = list(zip(*results))

    def ms(values):
        return f"{statistics.median(values) * 1000:.0f}"

    def each(values):
        return " ".join(f"{v * 1000:.0f}" for v in values)

    print("| measure | median (ms) | each round (ms) | goal |")
    print("|---|---|---|---|")
    print(f"| `topics` outside a lesson | {ms(columns[0])} | {each(columns[0])} | |")
    print(f"| `topics` inside a try step | {ms(columns[1])} | {each(columns[1])} | same as outside |")
    print(f"| `check` with the goal unmet -> \"not yet\" | {ms(columns[2])} | {each(columns[2])} | <= 500 ms |")
    print(f"| the solving command -> its own output | {ms(columns[3])} | {each(columns[3])} | same as outside |")
    print(f"| the solving command -> \"goal reached\" | {ms(columns[4])} | {each(columns[4])} | <= 500 ms |")


if __name__ == "__main__":
    main()
