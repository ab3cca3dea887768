"""Progress reported from inside a job: ``progress(iterable)`` and ``report(done, total)``.

Outside a job both do nothing but iterate (or return), so the same code runs
in the foreground too. Each call is cheap: the job pushes a change at most
every 0.1 s, and always the last one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from .context import current_job

T = TypeVar("T")


def progress(iterable: Iterable[T], total: int | None = None, desc: str | None = None) -> Iterator[T]:
    """Iterate ``iterable`` and report items done / ``total`` (``len(iterable)`` when it has one)."""
    job = current_job()
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    if job is None:
        yield from iterable
        return
    done = 0
    job._set_progress(done, total, desc)
    for item in iterable:
        yield item
        done += 1
        job._set_progress(done, total, desc)


def report(done: float, total: float | None = None, desc: str | None = None) -> None:
    """Report that ``done`` of ``total`` units of the calling job's work are done."""
    job = current_job()
    if job is not None:
        job._set_progress(done, total, desc)
