"""The output pump: every byte torchrun prints goes to ``train.log``, a bounded tail and the log parser.

No ``| tee`` (which hides the exit code): the supervisor reads the pipe itself, on a thread per attempt.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from pathlib import Path

from groot_ops.train.logparse import LogParser, Progress

TAIL_BYTES = 64 * 1024


class OutputPump:
    def __init__(self, log_path: Path, parser: LogParser) -> None:
        self.parser = parser
        self.lock = threading.Lock()
        self._tail: collections.deque[bytes] = collections.deque()
        self._tail_len = 0
        self._handle = log_path.open("ab")
        self._reader: threading.Thread | None = None
        self._at_line_start = True

    def note(self, message: str) -> None:
        """A supervisor line in train.log (and the tail), timestamped, on a line of its own."""
        with self.lock:
            # tqdm leaves its bar without a newline: start a new line rather than glue the note to it.
            lead = "" if self._at_line_start else "\n"
        self.record(f"{lead}[groot-ops supervisor {time.strftime('%H:%M:%S')}] {message}\n".encode())

    def record(self, chunk: bytes) -> None:
        with self.lock:
            self._handle.write(chunk)
            self._handle.flush()
            if chunk:
                self._at_line_start = chunk.endswith(b"\n")
            self._tail.append(chunk)
            self._tail_len += len(chunk)
            while self._tail_len > TAIL_BYTES and len(self._tail) > 1:
                self._tail_len -= len(self._tail.popleft())
            self.parser.feed(chunk.decode("utf-8", errors="replace"))

    def _pump(self, fd: int) -> None:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.record(chunk)

    def start(self, fd: int) -> None:
        self._reader = threading.Thread(target=self._pump, args=(fd,), daemon=True)
        self._reader.start()

    def drain(self, timeout: float = 30.0) -> None:
        """Wait for the pipe's end (the trainer exited), then parse what is left of a last line."""
        if self._reader is not None:
            self._reader.join(timeout=timeout)
            self._reader = None
        with self.lock:
            self.parser.flush()

    def new_attempt(self) -> None:
        with self.lock:
            self.parser.new_attempt()

    def tail_text(self) -> str:
        with self.lock:
            return b"".join(self._tail).decode("utf-8", errors="replace")

    def progress(self) -> Progress:
        """A copy of the parser's view, taken under the lock."""
        with self.lock:
            prog = self.parser.progress
            return Progress(**{**prog.__dict__, "points": list(prog.points)})

    def close(self) -> None:
        with self.lock:
            self._handle.close()
