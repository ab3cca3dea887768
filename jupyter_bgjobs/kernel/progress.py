"""Progress reported from inside a job: ``progress(iterable)`` and ``report(done, total)``.

Outside a job both do nothing but iterate (or return), so the same code runs
in the foreground too. Each call is cheap: the job pushes a change at most
every 0.1 s, and always the last one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from .context import current_job

T = TypeVar("T")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(done: Any, total: Any, desc: Any) -> None:
    # What the job record carries must be what the protocol takes: a record
    # the server refuses would hold back every other job of the kernel.
    if not _is_number(done):
        raise TypeError(f"progress: done must be a finite number, not {done!r:.40}")
    if total is not None and not _is_number(total):
        raise TypeError(f"progress: total must be a finite number or None, not {total!r:.40}")
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"progress: desc must be a string or None, not {type(desc).__name__}")


def progress(iterable: Iterable[T], total: int | None = None, desc: str | None = None) -> Iterator[T]:
    """Iterate ``iterable`` and report items done / ``total`` (``len(iterable)`` when it has one)."""
    job = current_job()
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    _check(0, total, desc)
    if job is None:
        yield from iterable
        return
    done = 0
    job.record_progress(done, total, desc)
    for item in iterable:
        yield item
        done += 1
        job.record_progress(done, total, desc)


def report(done: float, total: float | None = None, desc: str | None = None) -> None:
    """Report that ``done`` of ``total`` units of the calling job's work are done."""
    job = current_job()
    _check(done, total, desc)
    if job is not None:
        job.record_progress(done, total, desc)
