"""Change events of a job manager, coalesced for listeners.

Any thread may report a change (a job starts, prints, ends). Listeners are
called from one feed thread with a batch: every job changed since the last
batch, once, and the uids removed. A burst of a thousand changes is a few
batches, and a change costs the thread that reports it a dict store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job

Listener = Callable[["list[Job]", "list[str]"], None]

log = logging.getLogger(__name__)

# How long the feed thread gathers changes before it calls the listeners.
WINDOW = 0.02


class ChangeFeed:
    """Collects job changes from any thread and hands them out in batches."""

    def __init__(self, window: float = WINDOW) -> None:
        self._window = window
        self._listeners: list[Listener] = []
        # True while someone listens; read without the lock by whoever reports
        # a change: without listeners a change costs that one read.
        self.listening = False
        self._changed: dict[str, Job] = {}
        self._removed: list[str] = []
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None

    def add_listener(self, listener: Listener) -> None:
        with self._cond:
            self._listeners.append(listener)
            self.listening = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bgjobs-feed", daemon=True)
                self._thread.start()

    def remove_listener(self, listener: Listener) -> None:
        with self._cond:
            if listener in self._listeners:
                self._listeners.remove(listener)
            self.listening = bool(self._listeners)

    def changed(self, job: Job) -> None:
        if not self.listening:  # nobody listens (a terminal): nothing to keep
            return
        with self._cond:
            first = not self._changed and not self._removed
            self._changed[job.uid] = job
            if first:
                self._cond.notify()

    def removed(self, uid: str) -> None:
        if not self.listening:
            return
        with self._cond:
            self._changed.pop(uid, None)
            self._removed.append(uid)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._changed and not self._removed:
                    self._cond.wait()
            time.sleep(self._window)  # let the burst gather
            with self._cond:
                changed, self._changed = list(self._changed.values()), {}
                removed, self._removed = self._removed, []
                listeners = list(self._listeners)
            for listener in listeners:
                try:
                    listener(changed, removed)
                except Exception:  # one broken listener must not stop the others
                    log.exception("job change listener failed")
