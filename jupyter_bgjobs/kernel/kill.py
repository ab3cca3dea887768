"""``Killer``: the kill of one job, and what every other module asks about it.

A kill comes in waves. Each wave injects a ``JobKilled`` into the job's
thread (it lands at the next bytecode) and wakes the blocking call the
thread is in (``blocking.py``, ``resources.py``), so that it gets back to
bytecode. The job's code sees one ``JobKilled`` per wave; the reaper starts
a new wave if the thread still lives after a growing gap (0.25 s, 0.5 s, ...
2 s), which gives a ``finally:`` block time to clean up and still ends a job
that swallowed the first one.

Each job has one ``Killer`` (``job.killer``), made with the job. Who calls it:

- whoever asks for the kill (``jobs.kill``, ``%kill``, the control comm, a
  map group): ``check``, ``request``, ``require``;
- the job's own thread: ``arm`` when its code starts, ``disarm`` when it
  ends, ``landed`` (from ``JobKilled.__init__``), and, in its blocking calls,
  ``block``, ``raise_if_pending``, ``track_socket``, ``track_process``;
- the reaper, while the thread lives on: ``follow_up``.

A remote job (``on="process"``, ``backends/``) is not killed here: its
thread only waits for its backend, so ``request`` marks the kill and passes
it to the job's ``RemoteTask``, which ends the job once the remote side
confirms it.

State shared with the job (``status``, ``ended``, ``kill_requested``,
``blocked_in``) is read and written under the job's lock, which the killer
shares.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from _thread import get_ident
from collections.abc import Iterable
from types import FrameType
from typing import TYPE_CHECKING, Any

from .. import protocol
from .errors import JobKilled, JobStateError
from .inject import clear, inject
from .resources import JobResources
from .where import blocked_in

if TYPE_CHECKING:
    from .feed import ChangeFeed
    from .job import Job
    from .reaper import Reaper

# The gap before a kill that did not end the job is repeated, doubling up to
# the maximum: long enough for a short cleanup in `finally:` to finish.
REINJECT_FIRST = 0.25
REINJECT_MAX = 2.0
# Child processes get SIGTERM at once and SIGKILL after this many seconds.
TERMINATE_GRACE = 0.5


class Killer:
    """Kills one job: injects ``JobKilled`` in waves and wakes the blocking calls of its thread."""

    # Defaults on the class: a job that is never killed and never blocks does
    # not pay for setting them (job start is measured).
    thread_id: int | None = None  # the job's thread, once its code runs
    requested_at = 0.0  # time.monotonic() of the first request
    waiting_on: Any = None  # the lock a job-aware wait blocks on now (blocking.py)
    resources: JobResources | None = None  # the sockets and child processes the job made
    _armed = False  # true only while the job's own code runs
    _waves = 0  # kill waves sent
    _delivered = 0  # the wave the job thread last raised JobKilled for
    _next_wave = 0.0
    _wave_gap = REINJECT_FIRST

    def __init__(self, job: Job, lock: threading.Lock, feed: ChangeFeed, reaper: Reaper) -> None:
        self.job = job
        self._lock = lock  # the job's own
        self._feed = feed
        self._reaper = reaper

    # --- asking for the kill ----------------------------------------------------

    @property
    def killable(self) -> bool:
        """True while the job is queued or running: the one "is it running?" test of a kill."""
        job = self.job
        return job.ended is None and job.status in protocol.ACTIVE_STATES

    def check(self) -> None:
        """Raise ``JobStateError`` if the job cannot be killed (it has ended)."""
        if not self.killable:
            raise self.not_running()

    def require(self) -> None:
        """Ask the job to die; ``JobStateError`` if it is not running (or queued)."""
        if not self.request():
            raise self.not_running()

    def not_running(self) -> JobStateError:
        """The error of a kill of this job when it has ended."""
        job = self.job
        return JobStateError(f"job {job.number} is not running (it is {job.status})")

    def request(self) -> bool:
        """Ask the job to die; False if it is not running (or queued).

        Asking again while a wave is pending changes nothing; asking after a
        wave was swallowed starts the next one at once.
        """
        return request_kills([self])[0]

    def _mark(self) -> bool | None:
        """Mark the kill (a local job), before its thread is woken; None if not killable, else: did a wave begin?"""
        job = self.job
        with self._lock:
            if not self.killable:
                return None
            first = not job.kill_requested
            job.kill_requested = True
            now = time.monotonic()
            if first:
                self.requested_at = now
            wave = not self.pending()
            if wave:
                self._new_wave_locked(now)
        if first:
            self._feed.changed(job)
        return wave

    def _request_remote(self) -> bool:
        # The job's thread only waits for its backend: the kill goes to the
        # remote task, which ends the job once the remote side confirms it.
        job = self.job
        with self._lock:
            if not self.killable:
                return False
            first = not job.kill_requested
            job.kill_requested = True
            if first:
                self.requested_at = time.monotonic()
            task = job.remote_task
        if task is not None:  # else: the job's thread passes it on when it submits (Job.attach_remote)
            task.kill()
        if first:
            self._feed.changed(job)
        return True

    @property
    def caught(self) -> bool:
        """True if a kill has reached the job's code (a ``JobKilled`` was raised in its thread)."""
        return self._delivered > 0

    # --- the job's own thread ---------------------------------------------------------

    def arm(self, thread_id: int) -> None:
        """The job's code starts in ``thread_id``: injections may land from now on (under the job's lock)."""
        self.thread_id = thread_id
        self._armed = True

    def disarm(self) -> bool:
        """Stop injections, then drop one that may still be pending; True if a kill was pending.

        Called by the job's thread when its code has ended. After the flag is
        off no new injection starts, so at most one pending exception can land
        in here; the loop absorbs it.
        """
        landed = False
        while True:
            try:
                with self._lock:
                    self._armed = False
                    pending = self.pending()
                    if pending:
                        clear(get_ident())
                        self._delivered = self._waves
                return pending or landed
            except JobKilled:
                landed = True

    def pending(self) -> bool:
        """True while a kill wave has not yet been raised in the job's thread."""
        return self._waves > self._delivered

    def landed(self) -> None:
        """A ``JobKilled`` is being raised in the job's thread (called by its ``__init__``)."""
        self._delivered = self._waves

    def raise_if_pending(self) -> None:
        """In the job's thread: raise ``JobKilled`` if a wave has not landed yet."""
        if self._waves > self._delivered:
            # The wave also injected a JobKilled that may still be pending in
            # this thread: drop it, so that the job sees one exception, not a
            # second one in the middle of its cleanup.
            clear(get_ident())
            raise JobKilled()

    def block(self, lock: Any, timeout: float) -> bool:
        """``lock.acquire(True, timeout)`` in the job's thread, registered so that a kill can release it.

        Raises ``JobKilled`` if a kill is pending before or after the wait.
        """
        self.waiting_on = lock
        try:
            # Checked after registering: a kill that came before the
            # registration is pending already, one that comes after releases the lock.
            self.raise_if_pending()
            got: bool = lock.acquire(True, timeout)
        finally:
            self.waiting_on = None
        self.raise_if_pending()
        return got

    def track_socket(self, sock: socket.socket) -> None:
        """A socket the job's thread created: a kill shuts it down."""
        self._resources().add_socket(sock)

    def track_process(self, process: subprocess.Popen[Any]) -> None:
        """A child process the job's thread started: a kill terminates it."""
        self._resources().add_process(process)

    def _resources(self) -> JobResources:
        resources = self.resources
        if resources is None:  # only the job's own thread adds: no race
            resources = self.resources = JobResources()
        return resources

    # --- waves --------------------------------------------------------------------------

    def _new_wave_locked(self, now: float) -> None:
        self._waves += 1
        # Under the job's lock and only while the job's own code runs: the
        # thread id is then certainly this job's live thread (ids are reused at once).
        if self._armed and self.thread_id is not None:
            inject(self.thread_id, JobKilled)
        self._next_wave = now + self._wave_gap
        self._wave_gap = min(self._wave_gap * 2, REINJECT_MAX)

    def _wake_blocking(self, force: bool) -> None:
        """Wake the blocking calls the job is in: waits, sockets, child processes."""
        waiter = self.waiting_on
        if waiter is not None:
            try:
                waiter.release()
            except RuntimeError:  # released already (a notify, or an earlier wake)
                pass
        resources = self.resources
        if resources is not None:
            resources.shut_down_sockets()
            resources.stop_processes(force)

    def follow_up(self, now: float, frames: dict[int, FrameType] | None = None) -> None:
        """Called by the reaper while a killed job's thread lives: wake it again, repeat a swallowed wave."""
        job = self.job
        with self._lock:
            if job.ended is not None:
                return
            if not self.pending() and now >= self._next_wave:
                self._new_wave_locked(now)  # the last wave was swallowed
            pending = self.pending()
            thread_id = self.thread_id
        if pending:
            # Again: the thread may have entered a new blocking call (or opened
            # a new socket) since the last wake, before the kill landed.
            self._wake_blocking(force=now - self.requested_at >= TERMINATE_GRACE)
        where = blocked_in(thread_id, frames) if thread_id is not None else None
        with self._lock:
            changed = job.ended is None and where != job.blocked_in
            if changed:
                job.blocked_in = where
        if changed:
            self._feed.changed(job)


def request_kills(killers: Iterable[Killer]) -> list[bool]:
    """Ask many jobs to die (``Killer.request`` for each); for each, False if it was not running.

    Each job is woken right after it is marked, not after all are marked:
    marking 1,000 first had the job feed push each one's ``kill_requested``
    before its death (twice the records for the server), and made a kill
    burst slower to reach ``killed`` (p95 870-920 ms against 390-610 ms,
    alternated runs of ``bench/bench_kill_burst.py``).
    """
    asked: list[bool] = []
    for killer in killers:
        if killer.job.remote:
            asked.append(killer._request_remote())
            continue
        wave = killer._mark()
        if wave:
            killer._wake_blocking(force=False)
        if wave is not None:
            killer._reaper.watch(killer)
        asked.append(wave is not None)
    return asked
