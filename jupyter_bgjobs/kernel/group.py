"""``jobs.map``: a function over many items, as a pool of jobs.

The items are dealt round-robin into ``workers`` chunks (``chunks``), one job
a chunk. Results come back in input order; an item that raises is recorded
in ``group.failures`` with its traceback and the chunk goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import JobKilled
from .outcome import format_user_traceback
from .progress import report

if TYPE_CHECKING:
    from .job import Job

T = TypeVar("T")

_PENDING = object()


def chunks(seq: Sequence[T], n: int) -> list[list[T]]:
    """Deal ``seq`` round-robin into ``n`` lists: item i goes to list ``i % n``.

    ``chunks(range(7), 3) == [[0, 3, 6], [1, 4], [2, 5]]``; when ``n`` exceeds
    ``len(seq)`` the last lists are empty.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"the number of chunks must be a positive integer, not {n!r}")
    items = list(seq)
    return [items[i::n] for i in range(n)]


@dataclass(frozen=True)
class ItemFailure:
    """An item of a map that raised."""

    index: int
    item: Any
    error: BaseException
    traceback: str

    def __repr__(self) -> str:
        return f"<ItemFailure item {self.index}: {type(self.error).__name__}: {self.error}>"


class JobGroup:
    """The jobs of one ``jobs.map``; results in input order."""

    def __init__(self, name: str, func: Callable[[Any], Any], items: list[Any]) -> None:
        self.name = name
        self.func = func
        self.items = items
        self.jobs: list[Job] = []
        self.failures: dict[int, ItemFailure] = {}
        self._results: list[Any] = [_PENDING] * len(items)
        self._done = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def progress(self) -> dict[str, Any]:
        """Items done (succeeded or failed) out of all items."""
        return {"done": self._done, "total": self.total, "desc": self.name}

    @property
    def status(self) -> str:
        """``running`` while a job runs; then ``killed``, ``failed`` or ``finished``."""
        states = {job.status for job in self.jobs}
        for state in ("queued", "running", "killed", "failed"):
            if state in states:
                return "running" if state == "queued" else state
        return "failed" if self.failures else "finished"

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for every job of the group; True if all have ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for job in self.jobs:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not job.wait(left):
                return False
        return True

    def results(self, timeout: float | None = None) -> list[Any]:
        """Wait, then the results in input order (None for failed or unfinished items)."""
        self.wait(timeout)
        return [None if value is _PENDING else value for value in self._results]

    def kill(self, wait: float | None = 1.0) -> bool:
        """Kill every job of the group; True if all are dead within ``wait``."""
        for job in self.jobs:
            job.killer.request()
        if wait:
            self.wait(wait)
        return all(job.done for job in self.jobs) and self.status != "running"

    def run_chunk(self, indices: list[int]) -> int:
        """The body of one chunk's job: how many of its items succeeded."""
        succeeded = 0
        for count, index in enumerate(indices, 1):
            try:
                value = self.func(self.items[index])
            except JobKilled:
                raise
            except Exception as error:
                self.item_failed(index, error, "".join(format_user_traceback(error)))
            else:
                self.item_done(index, value)
                succeeded += 1
            report(count, len(indices), self.name)
        return succeeded

    def item_done(self, index: int, value: Any) -> None:
        """Item ``index`` returned ``value`` (here, or in a worker of a remote map)."""
        self._results[index] = value
        with self._lock:
            self._done += 1

    def item_failed(self, index: int, error: BaseException, traceback: str) -> None:
        """Item ``index`` raised ``error``; ``traceback`` is its text (the remote one for a remote map)."""
        self.failures[index] = ItemFailure(index, self.items[index], error, traceback)
        with self._lock:
            self._done += 1

    def __repr__(self) -> str:
        failed = f", {len(self.failures)} failed" if self.failures else ""
        return f"<JobGroup {self.name} {self.status}: {self._done}/{self.total} items{failed}, {len(self.jobs)} jobs>"
