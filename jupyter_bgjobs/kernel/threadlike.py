"""What makes a job look like one of IPython's ``BackgroundJob`` threads.

IPython's jobs are ``threading.Thread`` subclasses, and code written for
them (its own tests, the classic ``kill_thread(job)`` recipe) calls
``join()``, ``is_alive()``, reads ``ident`` and ``daemon``, and looks at
``stat_code``, ``finished`` and ``strform``. A ``Job`` runs its code in a
thread of its own (``Job._thread``) rather than being one; this base class
forwards the thread's part of the API to that thread and derives IPython's
status fields from the job's own ``status``.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from . import context

# IPython's status codes (``BackgroundJobBase.stat_*_c``), by the project's states.
STAT_CREATED_C = 0
STAT_RUNNING_C = 1
STAT_COMPLETED_C = 2
STAT_DEAD_C = -1
_STAT_CODES = {
    "queued": STAT_CREATED_C,
    "running": STAT_RUNNING_C,
    "finished": STAT_COMPLETED_C,
    "failed": STAT_DEAD_C,
    "killed": STAT_DEAD_C,
}


class ThreadLike:
    """The thread-like and IPython-compatible part of a ``Job``."""

    # IPython's class constants, for code that compares ``stat_code`` with them.
    stat_created_c = STAT_CREATED_C
    stat_running_c = STAT_RUNNING_C
    stat_completed_c = STAT_COMPLETED_C
    stat_dead_c = STAT_DEAD_C

    # Set by Job.
    status: str
    _thread: threading.Thread
    _func: Any = None  # the callable of a ``func`` job, for ``strform``

    if TYPE_CHECKING:

        @property
        def code(self) -> str: ...

        def wait(self, timeout: float | None = None) -> bool: ...

    # --- threading.Thread's API ------------------------------------------------

    def join(self, timeout: float | None = None) -> None:
        """Wait until the job's thread has ended, as ``Thread.join`` does (returns None).

        After a ``join()`` without a timeout the job has ended and
        ``is_alive()`` is False. A job whose thread could not be started (the
        system's thread limit) has ended as ``failed``: joining it returns at once.
        """
        if context.current_job() is self:
            raise RuntimeError("cannot join current thread")
        # The job's end first: its thread may not have been started yet
        # (a job is created, announced, then started).
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.wait(timeout):
            return
        thread = self._thread
        if thread.ident is not None:  # started: let it run its last lines
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def is_alive(self) -> bool:
        """True from the start of the job's thread until that thread ends, as for a Thread."""
        return self._thread.is_alive()

    @property
    def ident(self) -> int | None:
        """The job thread's identifier (``threading.get_ident()`` in it); None before it starts."""
        return self._thread.ident

    @property
    def native_id(self) -> int | None:
        """The operating system's id of the job's thread; None before it starts."""
        return self._thread.native_id

    @property
    def daemon(self) -> bool:
        """Whether the job's thread is a daemon thread (``jobs.new(..., daemon=False)`` makes it not)."""
        return self._thread.daemon

    @daemon.setter
    def daemon(self, value: bool) -> None:
        # Thread's own rule: only before it starts (RuntimeError afterwards).
        self._thread.daemon = value

    # --- BackgroundJobBase's status fields ---------------------------------------

    @property
    def stat_code(self) -> int:
        """IPython's status code: 0 queued, 1 running, 2 finished, -1 failed or killed."""
        return _STAT_CODES.get(self.status, STAT_DEAD_C)

    @property
    def finished(self) -> bool | None:
        """As in IPython: False until the job ends, True if it finished, None if it died."""
        status = self.status
        if status == "finished":
            return True
        if status in ("queued", "running"):
            return False
        return None

    @property
    def strform(self) -> str:
        """As in IPython: ``str(func)`` for a job that calls a function, else the job's code."""
        func = self._func
        if func is not None:
            return str(func)
        return self.code
