"""The room's abuse cases, run against one session with the web page open, as a hostile
neighbour at a workshop would. Prints what held and what did not, and the process's peak
file descriptors and memory. Usage: abuse.py BIN

1. idle sockets: 5,000 connections to the page from other loopback addresses that send
   nothing; the page must still answer, and a consumer must still get its partition;
2. 200 event-stream clients while `produce --count 100000` runs; the produce must finish and
   every client must get frames;
3. escape sequences in a key, a value and a header; `read` must show none of them raw;
4. delete and re-create a topic that is drawn and read by a consumer, 50 times; the
   process must still answer.
"""

import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time

BIN = sys.argv[1]
HOME = os.environ.get("KAFKA_WORKSHOP_HOME", "/tmp")
ENV = dict(os.environ, NO_COLOR="1", KAFKA_WORKSHOP_HOME=HOME)
HOSTILE = "\x1b]0;PWNED\x07\x1b[2J\x1b[31m"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Session:
    """The REPL on a pipe: `send` writes a line and waits for a pattern in what follows."""

    def __init__(self, args):
        self.process = subprocess.Popen([BIN, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=ENV, text=True, bufsize=1, errors="replace")
        self.lines = []
        self.lock = threading.Condition()
        self.peak_fds = 0
        self.peak_rss_kb = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self.lock:
                self.lines.append(line)
                self.lock.notify_all()

    def _sample(self):
        pid = self.process.pid
        while self.process.poll() is None:
            try:
                fds = len(os.listdir(f"/proc/{pid}/fd"))
                with open(f"/proc/{pid}/status") as status:
                    rss = next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
                self.peak_fds = max(self.peak_fds, fds)
                self.peak_rss_kb = max(self.peak_rss_kb, rss)
            except (OSError, StopIteration):
                pass
            time.sleep(0.05)

    def send(self, line, wait_for, limit=120):
        start = len(self.lines)
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        deadline = time.time() + limit
        with self.lock:
            while True:
                for text in self.lines[start:]:
                    if re.search(wait_for, text):
                        return "".join(self.lines[start:])
                if self.process.poll() is not None:
                    raise RuntimeError(f"the session ended ({self.process.returncode}) after {line[:60]!r}:\n{''.join(self.lines[-5:])}")
                left = deadline - time.time()
                if left <= 0:
                    raise RuntimeError(f"no {wait_for!r} after {line[:60]!r}:\n{''.join(self.lines[-10:])}")
                self.lock.wait(left)

    def output_since(self, start):
        with self.lock:
            return "".join(self.lines[start:])

    def close(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()


def get(port, path, source="127.0.0.1", timeout=10):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


class Stream:
    """One event-stream client counting `state` frames."""

    def __init__(self, port, source):
        self.frames = 0
        self.sock = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
        self.sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                return
            if not chunk:
                return
            self.frames += chunk.count(b"event: state")

    def close(self):
        self.sock.close()


def main():
    port = free_port()
    session = Session(["--web", f"127.0.0.1:{port}"])
    session.send("create-topic warmup", r"created topic")
    held = []

    # 1. Idle sockets from many neighbours (a /24 of loopback addresses).
    idle = []
    started = time.time()
    for i in range(5000):
        source = f"127.0.{1 + i // 250}.{1 + i % 250}"
        try:
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)))
        except OSError:
            break
    opened = len(idle)
    status = get(port, "/api/state")
    session.send("create-topic busy", r"created topic")
    session.send("start-consumer c --group g --topic busy", r"started consumer")
    assigned = session.send("expect consumer c assigned busy[0] --within 20s", r"(ok: consumer c is assigned|error:)")
    ok = status == 200 and "ok: consumer c is assigned" in assigned
    held.append(("5,000 idle sockets", ok, f"{opened} opened in {time.time() - started:.1f} s; page answered {status}; consumer assigned: {'yes' if 'ok:' in assigned else 'no'}"))
    for s in idle:
        s.close()

    # 2. 200 event-stream clients during a 100,000-message produce.
    session.send("create-topic flood --partitions 3", r"created topic")
    streams = [Stream(port, f"127.1.{1 + i // 20}.{1 + i % 20}") for i in range(200)]
    time.sleep(1.0)
    started = time.time()
    said = session.send("produce flood " + "x" * 100 + " --count 100000", r"(msg/s|error:)", limit=300)
    took = time.time() - started
    time.sleep(1.5)
    fed = sum(1 for s in streams if s.frames > 0)
    rate = re.search(r"\(([\d,]+) msg/s\)", said)
    ok = rate is not None and fed == len(streams)
    held.append(("200 event streams during a 100,000-message produce", ok,
                 f"produce {rate.group(1) if rate else 'failed'} msg/s in {took:.1f} s; {fed} of {len(streams)} streams got frames"))
    for s in streams:
        s.close()

    # 3. Escape sequences.
    session.send("create-topic esc", r"created topic")
    session.send(f"produce esc '{HOSTILE}v' --key '{HOSTILE}k' --header 'h={HOSTILE}'", r"(PARTITION|error:)")
    shown = session.send("read esc", r"\| 0 ")
    ok = "\x1b" not in shown and "\x07" not in shown and "\\x1b]0;PWNED" in shown
    held.append(("escape sequences in key, value and header", ok, "shown escaped" if ok else "a raw escape reached the output"))

    # 4. Delete and re-create a drawn topic under a consumer, 50 times.
    session.send("create-topic again --partitions 2", r"created topic")
    session.send("start-consumer r --group rg --topic again", r"(started consumer|error:)")
    started = time.time()
    rounds = 0
    try:
        for _ in range(50):
            session.send("produce again y --key a", r"(PARTITION|error:)")
            session.send("show again", r"topic again")
            session.send("delete-topic again", r"deleted topic")
            session.send("create-topic again --partitions 2", r"(created topic|already exists)")
            rounds += 1
        session.send("topics", r"NAME")
        ok = rounds == 50 and session.process.poll() is None
    except RuntimeError as err:
        ok = False
        print(f"  the loop stopped: {err}", file=sys.stderr)
    held.append(("delete and re-create under a consumer, 50 times", ok, f"{rounds} rounds in {time.time() - started:.1f} s; process alive"))

    session.send("stop-consumer c", r"stopped")
    session.close()
    print("| case | held | detail |")
    print("|---|---|---|")
    for case, ok, detail in held:
        print(f"| {case} | {'yes' if ok else 'NO'} | {detail} |")
    print()
    print(f"peak file descriptors: {session.peak_fds} (soft limit {resource.getrlimit(resource.RLIMIT_NOFILE)[0]})")
    print(f"peak memory (RSS): {session.peak_rss_kb / 1024:.0f} MB")
    if not all(ok for _, ok, _ in held):
        sys.exit(1)


if __name__ == "__main__":
    main()
