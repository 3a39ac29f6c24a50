"""The picture over many topics: how long `show` (every topic the session used) and
`GET /api/state` take once a session has used N topics of P partitions, each with one message
a partition. Prints a Markdown table. Usage: picture.py BIN RUNS BOOTSTRAP|embedded

A workshop broker holds 30 learners' topics; the goals are the issue's: 50 topics in 0.5 s or
less, 100 topics × 10 partitions in 2 s or less, on both brokers.
"""

import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

BIN, RUNS, WHERE = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Json:
    """The REPL with --json on a pipe: one line a command, so a command's time is its line's."""

    def __init__(self, args):
        self.process = subprocess.Popen([BIN, "--json", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1)

    def run(self, line):
        started = time.perf_counter()
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"{line!r}: the session ended: {self.process.stderr.read()}")
        return time.perf_counter() - started, json.loads(answer)

    def close(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(topics, partitions):
    port = free_port()
    args = ["--web", f"127.0.0.1:{port}"] + ([] if WHERE == "embedded" else ["--bootstrap-servers", WHERE])
    session = Json(args)
    # --web says where it serves before the first command.
    session.process.stdout.readline()
    run = uuid.uuid4().hex[:6]
    for n in range(topics):
        name = f"pic-{run}-{n}"
        session.run(f"create-topic {name} --partitions {partitions}")
        for p in range(partitions):
            session.run(f"produce {name} x --partition {p}")
    # The first look reads every partition's tail; a look after every log changed reads them
    # all again; a look at logs that did not change reads none.
    first, _ = session.run("show")
    for n in range(topics):
        for p in range(partitions):
            session.run(f"produce pic-{run}-{n} y --partition {p}")
    changed, _ = session.run("show")
    shows, states = [], []
    for _ in range(RUNS):
        took, _ = session.run("show")
        shows.append(took)
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=60) as reply:
            state = json.load(reply)
        states.append(time.perf_counter() - started)
        drawn = len(state["picture"]["topics"])
        if drawn != topics:
            raise RuntimeError(f"/api/state drew {drawn} topics of {topics}")
    for n in range(topics):
        session.run(f"delete-topic pic-{run}-{n}")
    session.close()
    return first, changed, statistics.median(shows), statistics.median(states)


print(f"| on {WHERE} | first `show` | `show` after every log changed | `show`, nothing changed (median of {RUNS}) | `/api/state` (median of {RUNS}) | goal |")
print("|---|---|---|---|---|---|")
for topics, partitions, goal in [(8, 1, ""), (50, 1, "≤ 0.5 s"), (100, 10, "≤ 2 s")]:
    first, changed, show, state = measure(topics, partitions)
    print(f"| {topics} topics × {partitions} partition(s) | {first:.2f} s | {changed:.2f} s | {show:.2f} s | {state:.2f} s | {goal} |")
