"""Follows up kills until the killed threads are gone.

One thread per manager, alive only while some kill is pending: every
``INTERVAL`` it wakes the blocking calls of each killed job again, escalates
child processes from SIGTERM to SIGKILL, repeats a kill that was swallowed,
and records where a thread that does not die is blocked. A job that has
resisted for ``PATIENCE`` seconds is followed up every ``SLOW_INTERVAL``
only: what has not woken by then is not waiting for the next 20 ms.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job

INTERVAL = 0.02
PATIENCE = 2.0
SLOW_INTERVAL = 0.25


class Reaper:
    """The follow-up thread of one manager's kills."""

    def __init__(self) -> None:
        self._jobs: set[Job] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, job: Job) -> None:
        """Follow ``job`` up until it has ended."""
        with self._lock:
            self._jobs.add(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bgjobs-reaper", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._jobs = {job for job in self._jobs if not job.done}
                if not self._jobs:
                    self._thread = None
                    return
                jobs = list(self._jobs)
            now = time.monotonic()
            for job in jobs:
                job._follow_up_kill(now)
            young = any(now - job._kill_time < PATIENCE for job in jobs)
            time.sleep(INTERVAL if young else SLOW_INTERVAL)
