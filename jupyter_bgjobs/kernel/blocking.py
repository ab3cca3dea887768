"""Job-aware blocking calls, so that a kill can wake a job that sleeps or waits.

An exception injected into a thread lands only between bytecodes: a thread
inside ``time.sleep``, a lock wait, ``recv`` or ``waitpid`` would ignore it
until the call returns. So, in job threads only:

- ``time.sleep`` blocks on a lock of its own that the kill releases;
- the waiter lock that ``threading.Condition.wait`` blocks on (and through it
  ``Event.wait``, ``queue.Queue.get``, ``Semaphore``, ``Barrier``, futures) is
  registered with the job, and the kill releases it;
- ``Thread.join`` waits in short slices and checks for a kill between them;
- sockets and child processes the job creates are recorded, and the kill
  shuts the sockets down and terminates the processes (``resources.py``).

A woken call raises ``JobKilled`` when a kill is pending for its job (see
``Killer.pending``, ``kill.py``): once per kill wave, so that a ``finally:`` block may
still sleep or wait until the next wave.

Every other thread calls straight through to the original, after one
thread-local lookup (``this_thread.job``: ``current_job()`` without the
call). Code that bound a function before the patches were installed
(``from time import sleep`` in a module imported earlier) keeps the original.
"""

from __future__ import annotations

import operator
import socket
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any, SupportsIndex

from .context import this_thread

if TYPE_CHECKING:
    from .kill import Killer

# The slice in which a job thread's Thread.join re-checks for a kill.
JOIN_SLICE = 0.02

_original_sleep = time.sleep
_original_allocate_lock = threading._allocate_lock  # type: ignore[attr-defined]
_original_join = threading.Thread.join
_original_socket_init = socket.socket.__init__
_original_popen_init = subprocess.Popen.__init__


def job_sleep(seconds: float | SupportsIndex) -> None:
    """``time.sleep`` that a kill cuts short in a job thread."""
    job = this_thread.job
    if job is None:
        return _original_sleep(seconds)
    # What time.sleep takes: a float, or an integer (anything with __index__).
    if isinstance(seconds, float):
        delay = seconds
    else:
        try:
            delay = operator.index(seconds)
        except TypeError:
            return _original_sleep(seconds)  # its own error for the wrong type
    if not delay > 0:  # zero (yield the GIL), negative and NaN: the original's behaviour
        job.killer.raise_if_pending()
        return _original_sleep(seconds)
    killer = job.killer
    lock = _original_allocate_lock()
    lock.acquire()
    deadline = time.monotonic() + delay
    left = float(delay)
    while left > 0:
        # The lock is never released but by a kill: the wait is the sleep.
        killer.block(lock, min(left, threading.TIMEOUT_MAX))
        left = deadline - time.monotonic()
    return None


class JobWaiter:
    """The lock a job thread's ``Condition.wait`` blocks on, wakeable by a kill."""

    __slots__ = ("_killer", "_lock")

    def __init__(self, killer: Killer) -> None:
        self._killer = killer
        self._lock: threading.Lock = _original_allocate_lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking:
            return self._lock.acquire(False)
        return self._killer.block(self._lock, timeout)

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()


def _allocate_waiter() -> Any:
    # threading.Condition.wait creates its waiter through the module global
    # `_allocate_lock` at each call; there is no public hook for this.
    job = this_thread.job
    if job is None:
        return _original_allocate_lock()
    return JobWaiter(job.killer)


def job_join(self: threading.Thread, timeout: float | None = None) -> None:
    """``Thread.join`` that a kill interrupts when a job thread calls it."""
    job = this_thread.job
    if job is None:
        return _original_join(self, timeout)
    killer = job.killer
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        killer.raise_if_pending()
        step = JOIN_SLICE if deadline is None else min(JOIN_SLICE, deadline - time.monotonic())
        if step <= 0:
            return None
        _original_join(self, step)
        if not self.is_alive():
            return None


def _socket_init(self: socket.socket, *args: Any, **kwargs: Any) -> None:
    _original_socket_init(self, *args, **kwargs)
    job = this_thread.job
    if job is not None:
        job.killer.track_socket(self)


def _popen_init(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
    _original_popen_init(self, *args, **kwargs)
    job = this_thread.job
    if job is not None:
        job.killer.track_process(self)


_installed = False
_install_lock = threading.Lock()


def install_blocking_patches() -> None:
    """Install the job-aware versions (once per process)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        time.sleep = job_sleep
        threading._allocate_lock = _allocate_waiter  # type: ignore[attr-defined]
        threading.Thread.join = job_join  # type: ignore[method-assign]
        socket.socket.__init__ = _socket_init  # type: ignore[method-assign]
        subprocess.Popen.__init__ = _popen_init  # type: ignore[method-assign]
        _installed = True
