"""A workshop's load on one shared broker: N learners (`--learner l1` ... `lN`) replay a group
lesson at once against one `kafka-workshop broker`, while an instructor's session runs `class`
over and over. Prints how many passed, the total time, the broker's peak RSS, how long `class`
took, and how long after each learner's last step `class` showed them done.
Usage: workshop.py BIN N LESSON HOME"""
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Instructor:
    """An instructor's session through a pipe: `class` in, the table out."""

    def __init__(self, binary, bootstrap, env):
        self.process = subprocess.Popen(
            [binary, "-b", bootstrap], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )

    def class_table(self):
        """Run `class` once; returns (seconds it took, {learner: status})."""
        start = time.perf_counter()
        self.process.stdin.write("class\n")
        self.process.stdin.flush()
        rows = {}
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise SystemExit("the instructor's session ended")
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 7 and cells[0] not in ("LEARNER", "") and not cells[0].startswith("-"):
                rows[cells[0]] = cells[3]
            if re.search(r"learners? ·|no learner has published", line):
                return time.perf_counter() - start, rows

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def main():
    binary, count, lesson, home = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    env = dict(os.environ, KAFKA_WORKSHOP_HOME=home, NO_COLOR="1")
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    broker = subprocess.Popen(
        [binary, "broker", "--listen", bootstrap], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    broker.stdout.readline()
    threading.Thread(target=lambda: broker.stdout.read(), daemon=True).start()
    instructor = Instructor(binary, bootstrap, env)
    instructor.class_table()

    finished = {}
    results = {}
    start = time.perf_counter()

    def learner(n):
        name = f"l{n}"
        run = subprocess.Popen(
            [binary, "replay", lesson, "--no-pause", "--check", "--speed", "max", "-b", bootstrap, "--learner", name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        # The lesson's last step is over when the replay prints its last line (the recap); the
        # session has published "done" by then.
        for _ in run.stdout:
            finished[name] = time.perf_counter()
        errors = run.stderr.read()
        code = run.wait()
        results[name] = (code, errors.strip().splitlines()[-1:] if code else [])

    threads = [threading.Thread(target=learner, args=(n,)) for n in range(1, count + 1)]
    for thread in threads:
        thread.start()
    class_times = []
    seen_done = {}
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        # An instructor's `class --watch` redraws every second; four times a second measures
        # how soon a learner's step shows more finely, at a cost the broker also carries.
        time.sleep(0.25)
        took, rows = instructor.class_table()
        now = time.perf_counter()
        class_times.append(took)
        for name, status in rows.items():
            if status == "done" and name not in seen_done:
                seen_done[name] = now
        if len(results) == count and all(results[n][0] != 0 or n in seen_done for n in results):
            break
    total = time.perf_counter() - start
    for thread in threads:
        thread.join()
    instructor.close()
    rss = peak_rss_mb(broker.pid)
    broker.terminate()
    broker.wait(timeout=30)

    passed = sum(1 for code, _ in results.values() if code == 0)
    lags = [seen_done[n] - finished[n] for n in seen_done if n in finished]
    print(f"| learners | {count} |")
    print(f"| passed `replay {lesson} --no-pause --check --speed max` | {passed} of {count} |")
    print(f"| total time, all learners | {total:.1f} s |")
    print(f"| broker peak RSS (VmHWM) | {rss:.0f} MB |")
    print(f"| `class` runs while they worked | {len(class_times)} |")
    print(f"| `class` took, median / max | {statistics.median(class_times):.2f} s / {max(class_times):.2f} s |")
    if lags:
        print(f"| learner's last step → `class` shows done, median / max | {statistics.median(lags):.2f} s / {max(lags):.2f} s |")
    missing = [n for n, (code, _) in results.items() if code == 0 and n not in seen_done]
    if missing:
        print(f"| passed but never shown done | {', '.join(sorted(missing))} |")
    for name, (code, last) in sorted(results.items()):
        if code != 0:
            print(f"| {name} failed ({code}) | {' '.join(last)} |")


main()
