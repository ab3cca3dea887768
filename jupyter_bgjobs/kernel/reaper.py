"""Follows up kills until the killed threads are gone.

One thread per manager, alive only while some kill is pending: every
``INTERVAL`` it wakes the blocking calls of each killed job again, escalates
child processes from SIGTERM to SIGKILL, re-injects a kill that was
swallowed, and records where a thread that does not die is blocked.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job

INTERVAL = 0.02


class Reaper:
    def __init__(self) -> None:
        self._jobs: set[Job] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, job: Job) -> None:
        with self._lock:
            self._jobs.add(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bgjobs-reaper", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(INTERVAL)
            with self._lock:
                self._jobs = {job for job in self._jobs if not job.done}
                if not self._jobs:
                    self._thread = None
                    return
                jobs = list(self._jobs)
            now = time.monotonic()
            for job in jobs:
                job._follow_up_kill(now)
