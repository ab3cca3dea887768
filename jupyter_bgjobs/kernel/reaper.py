"""Follows up kills until the killed threads are gone.

One thread per manager, alive only while some kill is pending: every
``INTERVAL`` it wakes the blocking calls of each killed job again, escalates
child processes from SIGTERM to SIGKILL, repeats a kill that was swallowed,
and records where a thread that does not die is blocked. A job that has
resisted for ``PATIENCE`` seconds is followed up every ``SLOW_INTERVAL``
only: what has not woken by then is not waiting for the next 20 ms.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kill import Killer

INTERVAL = 0.02
PATIENCE = 2.0
SLOW_INTERVAL = 0.25


class Reaper:
    """The follow-up thread of one manager's kills."""

    def __init__(self) -> None:
        self._killers: set[Killer] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, killer: Killer) -> None:
        """Follow the kill up until its job has ended."""
        with self._lock:
            self._killers.add(killer)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bgjobs-reaper", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._killers = {killer for killer in self._killers if not killer.job.done}
                if not self._killers:
                    self._thread = None
                    return
                killers = list(self._killers)
            now = time.monotonic()
            # One list of every thread's frame for the round: made per job,
            # a round over 1,000 killed jobs cost O(threads x jobs).
            frames = sys._current_frames()
            for killer in killers:
                killer.follow_up(now, frames)
            del frames  # the frames hold their locals
            young = any(now - killer.requested_at < PATIENCE for killer in killers)
            time.sleep(INTERVAL if young else SLOW_INTERVAL)
