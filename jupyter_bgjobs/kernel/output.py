"""Per-job output: what a job prints goes to that job alone.

``sys.stdout`` and ``sys.stderr`` are wrapped once by a ``RoutedStream``: a
write from a job thread is appended to that job's bounded ``OutputBuffer``
and still reaches the wrapped stream (the notebook cell, the terminal).
Writes from every other thread pass straight through. Output that child
processes write to the file descriptors is not seen here.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import Any, TextIO

from .context import this_thread

DEFAULT_LIMIT = 1_000_000


class OutputBuffer:
    """The last ``limit`` characters written by one job (stdout and stderr interleaved)."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._chunks: deque[str] = deque()
        self._size = 0
        self._lock = threading.Lock()
        self.dropped = 0  # characters dropped from the front to respect the limit

    def write(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._chunks.append(text)
            self._size += len(text)
            while self._size > self._limit:
                head = self._chunks[0]
                excess = self._size - self._limit
                if len(head) <= excess:
                    self._chunks.popleft()
                    self._size -= len(head)
                    self.dropped += len(head)
                else:
                    self._chunks[0] = head[excess:]
                    self._size -= excess
                    self.dropped += excess

    def getvalue(self) -> str:
        with self._lock:
            return "".join(self._chunks)

    def tail(self, limit: int) -> str:
        """The last ``limit`` characters, without joining the whole buffer."""
        with self._lock:
            parts: list[str] = []
            size = 0
            for chunk in reversed(self._chunks):
                parts.append(chunk)
                size += len(chunk)
                if size >= limit:
                    break
        text = "".join(reversed(parts))
        return text[-limit:] if len(text) > limit else text

    def __len__(self) -> int:
        return self._size


class RoutedStream:
    """A proxy for a text stream that also copies job threads' writes to their job."""

    def __init__(self, stream: TextIO) -> None:
        self.wrapped = stream

    def write(self, text: str) -> int:
        job = this_thread.job  # current_job(), inlined: every write of every thread comes here
        if job is not None and isinstance(text, str):
            job.record_output(text)
        return self.wrapped.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


# The kernel's own streams that can route one thread's output to a cell of its
# choice (ipykernel 7.4+ ``set_thread_parent``); found once, at install.
_thread_parent_streams: list[Any] = []


def install_output_routing() -> None:
    """Wrap sys.stdout and sys.stderr (once: loading twice changes nothing)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, RoutedStream):
            continue
        if hasattr(stream, "set_thread_parent"):
            _thread_parent_streams.append(stream)
        setattr(sys, name, RoutedStream(stream))


def current_parent() -> dict[str, Any] | None:
    """The message header output is attributed to now (ipykernel 7.4+), or None."""
    for stream in _thread_parent_streams:
        header = stream.parent_header
        if header:
            return dict(header)
    return None


def flush_echo() -> None:
    """Push what this thread printed to the notebook now, not at the stream's next tick.

    Called by a job that printed, as it ends: ipykernel sends stream output
    up to 0.2 s after the write, so without it a job's last lines could
    reach the cell after ``job.wait()`` returned, under whichever cell runs
    by then (ipykernel 6 sends a write under the cell running when it is flushed).
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: the job's own buffer has the text
            pass


def echo_to(parent: dict[str, Any]) -> None:
    """Send this thread's output to the cell whose header is ``parent``.

    ipykernel 7.4+ routes a thread's output to the latest cell unless the
    thread sets its own parent; 6.29+ already routes it to the cell that
    started the thread, and a terminal has no cells at all.
    """
    for stream in _thread_parent_streams:
        stream.set_thread_parent(parent)


def write_as_job(job: Any, stream_name: str, text: str) -> None:
    """Write ``text`` as ``job`` printing it: kept in its output and shown where its prints go.

    Called in the job's own thread for what a remote job printed where it ran.
    """
    stream = getattr(sys, "stderr" if stream_name == "stderr" else "stdout")
    if isinstance(stream, RoutedStream):  # records it for the calling job thread, and echoes it
        stream.write(text)
        return
    job.record_output(text)
    stream.write(text)
