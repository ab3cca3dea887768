"""Which job, if any, the calling thread belongs to.

A job's thread sets ``this_thread.job`` while the job's code runs (see
``Job._run``). Everything job-aware (output routing, cancellable waits,
resource tracking) asks ``current_job()`` first; outside job threads it
returns None and the caller keeps the standard behaviour. A thread-local
attribute keeps that question cheap enough for every ``print`` and every
``Condition.wait``, and it dies with its thread: a new thread that gets a
finished job's thread id (ids are reused at once) starts with no job.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job


class _ThreadState(threading.local):
    # The class attribute is what every thread sees until its job sets its own.
    job: Job | None = None


this_thread = _ThreadState()


def current_job() -> Job | None:
    """The job whose thread is calling, or None."""
    return this_thread.job
