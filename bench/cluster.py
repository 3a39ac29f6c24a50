"""Three local Apache Kafka nodes under failure, driven through a pipe as a learner would.
Each round starts `kafka-workshop --apache-kafka JARS --brokers 3`, makes a topic with three
copies of each partition, kills the broker that leads partition 0 and times:

- start: from launch to the first answer (three nodes up, the prompt ready);
- look: `describe-topic`, `show` and `cluster` sent right after the kill (each must answer
  within 2 s, from the nodes that are up);
- failover: from the kill to the first `show` that draws another broker as partition 0's
  leader (goal: the broker session timeout, 3 s here, + 1 s); a leader that is also the
  active controller is counted apart, since the quorum elects a controller first;
- rejoin: from `broker start` to the first `show` with all three in every ISR (goal: 10 s).

Prints a Markdown table of medians. Usage: cluster.py BINARY JARS ROUNDS"""
import queue
import re
import statistics
import sys
import time

from pipe import Pipe


class Repl(Pipe):
    def __init__(self, binary, jars):
        super().__init__(binary, ["--apache-kafka", jars, "--brokers", "3"])

    def drain(self):
        """Forget what earlier commands printed after the line that was waited for."""
        time.sleep(0.05)
        while True:
            try:
                self.lines.get_nowait()
            except queue.Empty:
                return

    def answer(self, line, last, limit=60.0):
        """Send `line`; return (seconds until a line matching `last` arrived, the lines)."""
        self.drain()
        sent = self.send(line)
        seen = []
        deadline = sent + limit
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise SystemExit(f"no answer matching {last!r} to {line!r} within {limit} s:\n{''.join(seen[-10:])}")
            try:
                at, text = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            seen.append(text)
            if re.search(last, text):
                return at - sent, seen

    def close(self):
        super().close(limit=60)


def partition_zero(lines):
    """(leader, in-sync ids) of p0 in a `show` frame."""
    for n, text in enumerate(lines):
        if text.strip().startswith("p0 ") and n + 1 < len(lines):
            found = re.search(r"leader (\d+).* in sync ([\d ()down]+?)( ·|$)", lines[n + 1])
            if found:
                return int(found.group(1)), re.findall(r"\d+", found.group(2).replace("(down)", ""))
    return None, []


def all_in_sync(lines):
    rows = [t for t in lines if "in sync" in t]
    return bool(rows) and all(len(re.findall(r"\d+", t.split("in sync")[1].split("·")[0])) == 3 for t in rows)


def one_round(binary, jars):
    repl = Repl(binary, jars)
    took, _ = repl.answer("topics", r"no topics|\| NAME")
    start = time.perf_counter() - repl.started
    repl.answer("create-topic bench-rf3 --partitions 3 --replication-factor 3", "created topic")
    repl.answer("produce bench-rf3 'x' --count 6 --key k{n}", r"\| PARTITION")
    _, shown = repl.answer("show bench-rf3", r"^\s+leader .*$")
    leader, _ = partition_zero(shown)
    _, said = repl.answer("cluster", r"active controller \d+")
    controller = int(re.search(r"active controller (\d+)", said[-1]).group(1))
    killed_at = time.perf_counter()
    repl.answer(f"broker kill {leader}", "killed")
    looks = {}
    for command, last in [("describe-topic bench-rf3", r"retention\.ms|cleanup\.policy|did not answer"),
                          ("show bench-rf3", r"p2 "), ("cluster", r"security:")]:
        looks[command.split()[0]], _ = repl.answer(command, last)
    failover = None
    while failover is None:
        sent = time.perf_counter()
        _, lines = repl.answer("show bench-rf3", r"^\s+leader .*\n?$")
        now, _ = partition_zero(lines)
        if now is not None and now != leader:
            failover = time.perf_counter() - killed_at
        elif time.perf_counter() - killed_at > 60:
            raise SystemExit("no failover within 60 s")
        else:
            time.sleep(max(0.0, 0.2 - (time.perf_counter() - sent)))
    started_at = repl.send(f"broker start {leader}")
    rejoin = None
    while rejoin is None:
        _, lines = repl.answer("show bench-rf3", r"p2 ")
        lines.append(repl.lines.get(timeout=5)[1])
        if all_in_sync(lines):
            rejoin = time.perf_counter() - started_at
        elif time.perf_counter() - started_at > 90:
            raise SystemExit("not back in every ISR within 90 s")
        else:
            time.sleep(0.2)
    repl.close()
    return start, looks, failover, rejoin, leader == controller


def main():
    binary, jars, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    results = [one_round(binary, jars) for _ in range(rounds)]

    def row(name, values, goal):
        print(f"| {name} | {' '.join(f'{v:.2f}' for v in values)} | {statistics.median(values):.2f} | {goal} |")

    print("| measure (s) | each round | median | goal |")
    print("|---|---|---|---|")
    row("three nodes up → first answer", [r[0] for r in results], "≤ 20")
    for look in ["describe-topic", "show", "cluster"]:
        row(f"`{look}` right after `broker kill` of a leader", [r[1][look] for r in results], "≤ 2")
    row("`broker kill` → new leader drawn by `show`", [r[2] for r in results], "≤ 4 (session timeout 3 s + 1 s)")
    plain = [r[2] for r in results if not r[4]]
    both = [r[2] for r in results if r[4]]
    if plain:
        row("… of a leader that is not the active controller", plain, "≤ 4")
    if both:
        row("… of a leader that is also the active controller (an election first)", both, "-")
    row("`broker start` → back in every ISR in `show`", [r[3] for r in results], "≤ 10")


main()
