"""Which job, if any, the calling thread belongs to.

Everything job-aware (output routing, cancellable waits, resource tracking)
asks ``current_job()`` first; outside job threads it returns None and the
caller keeps the standard behaviour. A dict lookup keyed by thread id keeps
that question cheap enough for every ``print`` and every ``Condition.wait``.
"""

from __future__ import annotations

from _thread import get_ident
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job

_job_by_thread: dict[int, Job] = {}


def current_job() -> Job | None:
    """The job whose thread is calling, or None."""
    return _job_by_thread.get(get_ident())


def bind(job: Job) -> None:
    """Mark the calling thread as the thread of ``job``."""
    _job_by_thread[get_ident()] = job


def unbind() -> None:
    """The calling thread no longer runs a job (before it exits: thread ids are reused)."""
    _job_by_thread.pop(get_ident(), None)
