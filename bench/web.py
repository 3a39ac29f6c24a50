"""The web page and `watch` under load, measured from outside like a person's browser and
terminal would see them. Prints a Markdown table. Usage: web.py BIN [RUNS]

- produce rate: `produce --count 200000` in a session with the page open (an event-stream
  client connected) against one without, median of RUNS each;
- frames a second the page receives while `produce --count 2000000` runs (100,000 messages
  take a tenth of a second here, too short to count frames in);
- change to page: for every frame the page receives while a producer sends every 100 ms, the
  time from when the session saw the change to when the frame arrived; p95;
- change to `watch` frame: the same for `watch` drawing at a terminal (a pty), from the time
  each frame says its last change was seen to when the frame arrived; p95.
"""

import datetime
import json
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import threading
import time

BIN = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
HOME = os.environ.get("KAFKA_WORKSHOP_HOME", "/tmp")
ENV = dict(os.environ, NO_COLOR="1", KAFKA_WORKSHOP_HOME=HOME)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now_ms():
    return time.time() * 1000.0


class Session:
    """The REPL reading commands from a pipe; `send` writes a line and waits for a pattern."""

    def __init__(self, args):
        self.process = subprocess.Popen([BIN, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=ENV, text=True, bufsize=1)
        self.lines = []
        self.lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self.lock:
                self.lines.append(line)
                self.lock.notify_all()

    def send(self, line, wait_for=None, limit=120):
        start = len(self.lines)
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        if wait_for is None:
            return None
        deadline = time.time() + limit
        with self.lock:
            while True:
                for text in self.lines[start:]:
                    found = re.search(wait_for, text)
                    if found:
                        return found
                left = deadline - time.time()
                if left <= 0:
                    raise RuntimeError(f"no {wait_for!r} after {line!r}:\n{''.join(self.lines[-20:])}")
                self.lock.wait(left)

    def close(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()


class Page:
    """An event-stream client of the page: every `state` frame with the time it arrived."""

    def __init__(self, port):
        self.frames = []
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        event = None
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                return
            if not chunk:
                return
            arrived = now_ms()
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                line = line.rstrip(b"\r").decode("utf-8", "replace")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "state":
                    frame = json.loads(line[6:])
                    self.frames.append((arrived, frame["changed_at_ms"]))

    def close(self):
        self.sock.close()


def produce_rate(web):
    args = ["--web", f"127.0.0.1:{free_port()}"] if web else []
    port = int(args[1].split(":")[1]) if web else None
    session = Session(args)
    session.send("create-topic t --partitions 3", r"created topic")
    page = Page(port) if web else None
    if page:
        time.sleep(0.5)
    found = session.send("produce t " + "x" * 100 + " --count 200000", r"\(([\d,]+) msg/s\)")
    rate = int(found.group(1).replace(",", ""))
    if page:
        page.close()
    session.close()
    return rate


def frames_during_produce(count):
    port = free_port()
    session = Session(["--web", f"127.0.0.1:{port}"])
    session.send("create-topic t --partitions 3", r"created topic")
    page = Page(port)
    time.sleep(0.5)
    before = len(page.frames)
    started = time.time()
    session.send("produce t " + "x" * 100 + f" --count {count}", r"msg/s", limit=300)
    took = time.time() - started
    frames = len(page.frames) - before
    page.close()
    session.close()
    return frames / took, took


def page_latency(seconds=10):
    port = free_port()
    session = Session(["--web", f"127.0.0.1:{port}"])
    session.send("create-topic t --partitions 3", r"created topic")
    page = Page(port)
    session.send("start-producer p --topic t --every 100ms", r"started producer")
    time.sleep(seconds)
    session.send("stop-producer p", r"stopped producer")
    latencies = [arrived - changed for arrived, changed in page.frames[2:]]
    page.close()
    session.close()
    return latencies


def watch_latency(seconds=10):
    """`watch` in a pty: frames are split at the clear-screen sequence; each says when its last
    change was seen."""
    process = subprocess.Popen(["script", "-qfec", BIN, "/dev/null"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=ENV)
    def type_keys(text):
        process.stdin.write(text.encode())
        process.stdin.flush()
    output = b""
    def read_until(pattern, limit=60):
        nonlocal output
        deadline = time.time() + limit
        while time.time() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.1)
            if ready:
                output += os.read(process.stdout.fileno(), 1 << 16)
                if re.search(pattern, output):
                    return
        raise RuntimeError(f"no {pattern!r} in the terminal")
    read_until(rb"kafka \xe2\x80\xba")
    type_keys("create-topic t --partitions 3\r")
    read_until(rb"created topic")
    type_keys("start-producer p --topic t --every 100ms\r")
    read_until(rb"started producer")
    type_keys("watch t\r")
    latencies = []
    frame = b""
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.05)
        if not ready:
            continue
        chunk = os.read(process.stdout.fileno(), 1 << 16)
        arrived = datetime.datetime.now(datetime.timezone.utc)
        frame += chunk
        while b"\x1b[2J" in frame:
            done, frame = frame.split(b"\x1b[2J", 1)
            found = re.search(rb"last change (\d\d):(\d\d):(\d\d)\.(\d\d\d) UTC", done)
            if found:
                h, m, s, ms = (int(x) for x in found.groups())
                seen = arrived.replace(hour=h, minute=m, second=s, microsecond=ms * 1000)
                latencies.append((arrived - seen).total_seconds() * 1000.0)
    type_keys("q")
    type_keys("quit\r")
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    return latencies[1:]


def p95(values):
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)] if values else float("nan")


without = [produce_rate(False) for _ in range(RUNS)]
with_page = [produce_rate(True) for _ in range(RUNS)]
fps, took = frames_during_produce(2_000_000)
page = page_latency()
watch = watch_latency()
print("| measure | value | goal |")
print("|---|---|---|")
print(f"| produce 200,000 × 100 B, no page (median of {RUNS}) | {statistics.median(without):,.0f} msg/s | |")
print(f"| the same with the page open | {statistics.median(with_page):,.0f} msg/s ({statistics.median(with_page) / statistics.median(without):.2f}×) | ≥ 0.90× |")
print(f"| frames the page receives during produce --count 2000000 ({took:.1f} s) | {fps:.1f} a second | about 10 |")
print(f"| change → page, p95 ({len(page)} frames) | {p95(page):.0f} ms | ≤ 250 ms |")
print(f"| change → watch frame, p95 ({len(watch)} frames) | {p95(watch):.0f} ms | ≤ 250 ms |")
