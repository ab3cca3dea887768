"""Which job, if any, the calling thread belongs to.

Everything job-aware (output routing, cancellable waits, resource tracking)
asks ``current_job()`` first; outside job threads it returns None and the
caller keeps the standard behaviour. A thread-local attribute keeps that
question cheap enough for every ``print`` and every ``Condition.wait``, and
it dies with its thread: a new thread that gets a finished job's thread id
(ids are reused at once) starts with no job.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job


class _ThreadState(threading.local):
    # The class attribute is what every thread sees until it binds a job.
    job: Job | None = None


this_thread = _ThreadState()


def current_job() -> Job | None:
    """The job whose thread is calling, or None."""
    return this_thread.job


def bind(job: Job) -> None:
    """Mark the calling thread as the thread of ``job``."""
    this_thread.job = job


def unbind() -> None:
    """The calling thread no longer runs a job (its output and waits are standard again)."""
    this_thread.job = None
