"""The REPL on a pipe, for the bench scripts: each line it prints is kept with the time it
arrived, so a script can time a command to the line that answers it."""
import os
import queue
import subprocess
import tempfile
import threading
import time


class Pipe:
    def __init__(self, binary, args=()):
        env = dict(os.environ, KAFKA_WORKSHOP_HOME=tempfile.mkdtemp(), NO_COLOR="1")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put((time.perf_counter(), line))

    def send(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return time.perf_counter()

    def close(self, limit=30):
        self.process.stdin.close()
        self.process.wait(timeout=limit)
