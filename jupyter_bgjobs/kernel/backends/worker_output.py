"""In a worker process: everything written to file descriptors 1 and 2 becomes the running task's output.

Both descriptors are pipes read by a forwarding thread, so ``print``, writes
of C libraries and of child processes alike reach the kernel, tagged with
the task that runs. When a task ends, ``drain`` reads what is left in the
pipes before the task's end is sent, so the kernel has all of it first.
"""

from __future__ import annotations

import codecs
import os
import select
import sys
import threading
from collections.abc import Callable
from typing import Any

# At most this many characters of one task's output are forwarded; the
# kernel keeps the last 1 MB of a job's output anyway.
MAX_FORWARD = 4_000_000
_STREAMS = ((1, "stdout"), (2, "stderr"))


class OutputCapture:
    """Redirects fds 1 and 2 to pipes and forwards what comes out with ``put(("output", task, stream, text))``."""

    def __init__(self, put: Callable[[tuple[Any, ...]], None]) -> None:
        self._put = put
        self._lock = threading.Lock()
        self._readers: dict[int, tuple[str, codecs.IncrementalDecoder]] = {}
        self.task_id: int | None = None
        self._forwarded = 0
        for fd, name in _STREAMS:
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            os.set_blocking(read_end, False)
            self._readers[read_end] = (name, codecs.getincrementaldecoder("utf-8")("replace"))
        # Line-buffered text streams on the new descriptors: a print is
        # forwarded when its line ends, and all of it by `drain`.
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        threading.Thread(target=self._forward, name="bgjobs-worker-output", daemon=True).start()

    def start(self, task_id: int) -> None:
        """Output from now on belongs to ``task_id``."""
        with self._lock:
            self.task_id = task_id
            self._forwarded = 0

    def drain(self) -> None:
        """Forward what the ended task left in the pipes; output after this belongs to no task."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # the task closed or broke it
                pass
        with self._lock:
            for fd in self._readers:
                self._read_locked(fd)
            self.task_id = None

    def _forward(self) -> None:
        fds = list(self._readers)
        while True:
            readable, _, _ = select.select(fds, [], [])
            with self._lock:
                for fd in readable:
                    self._read_locked(fd)

    def _read_locked(self, fd: int) -> None:
        name, decoder = self._readers[fd]
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            if not data:
                return
            text = decoder.decode(data)
            if self.task_id is None or not text:
                continue
            left = MAX_FORWARD - self._forwarded
            if left <= 0:
                continue
            if len(text) > left:
                text = text[:left] + f"\n[jupyter-bgjobs: output beyond {MAX_FORWARD} characters dropped]\n"
            self._forwarded += len(text)
            self._put(("output", self.task_id, name, text))
