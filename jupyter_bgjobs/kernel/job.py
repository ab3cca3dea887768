"""One background job: a callable run in its own thread.

How a job is killed is ``kill.py`` (``job.killer``); what makes it look like
one of IPython's background-job threads is ``threadlike.py``.
"""

from __future__ import annotations

import threading
import time
from _thread import get_ident
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .. import protocol
from . import context
from .backends.base import THREAD_WHERE
from .context import this_thread
from .errors import JobKilled
from .kill import Killer
from .outcome import bounded_repr, error_record
from .output import OutputBuffer, echo_to, flush_echo
from .threadlike import ThreadLike
from .uids import new_uid

if TYPE_CHECKING:
    from .backends.base import RemoteTask
    from .feed import ChangeFeed
    from .reaper import Reaper

Outcome = tuple[Literal["finished", "killed", "failed"], Any]

# Progress changes are pushed at most this often (the last one always).
PROGRESS_INTERVAL = 0.1

_UNSET: Any = object()


def _ended() -> None:
    """What an ended job holds instead of the call it made."""


class TracebackText(str):
    """A traceback that IPython shows as text, not as a quoted string."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self).rstrip("\n"))


class Job(ThreadLike):
    """A job of a ``JobManager``; ``jobs.new`` creates it, its thread runs it.

    Public attributes: ``number``, ``uid``, ``name``, ``code``, ``kind``,
    ``group``, ``status``, ``created``, ``started``, ``ended``, ``result``,
    ``exception``, ``error``, ``progress``, ``kill_requested``, ``blocked_in``,
    ``where`` (a kernel thread, or a backend's worker); thread-like and
    IPython-compatible ones come from ``ThreadLike``.
    """

    # Defaults on the class: a job that is never killed, prints nothing and is
    # never waited for does not pay for setting them (job start is measured).
    started: float | None = None
    ended: float | None = None
    result: Any = None
    exception: BaseException | None = None
    error: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    kill_requested = False
    blocked_in: str | None = None
    where: dict[str, Any] = THREAD_WHERE
    # A job whose work runs in a backend's worker: its thread only waits for
    # the backend (backends/remote.py), and a kill goes to the remote task.
    remote = False
    remote_task: RemoteTask | None = None

    _output: OutputBuffer | None = None
    _done_event: threading.Event | None = None
    _progress_pushed = 0.0
    _result_repr: Any = _UNSET

    def __init__(
        self,
        number: int,
        call: Callable[[], Any],
        *,
        feed: ChangeFeed,
        reaper: Reaper,
        code: str | Callable[[], str],
        kind: str,
        name: str | None = None,
        group: str | None = None,
        parent: dict[str, Any] | None = None,
        daemon: bool = True,
        func: Callable[..., Any] | None = None,
        where: dict[str, Any] | None = None,
    ) -> None:
        self.number = number
        self.uid = new_uid()
        self.name = name
        self._code = code
        self.kind = kind
        self.group = group
        self.status = "queued"
        self.created = time.time()
        self._feed = feed
        self._call = call
        self._func = func
        self._parent = parent
        self._lock = threading.Lock()
        self.killer = Killer(self, self._lock, feed, reaper)
        if where is not None and where["backend"] != "thread":
            self.where = where
            self.remote = True
        self._thread = threading.Thread(target=self._run, name=f"bgjob-{number}", daemon=daemon)

    # --- what users read ----------------------------------------------------

    @property
    def num(self) -> int:
        """The job number (the name IPython's BackgroundJobManager uses)."""
        return self.number

    @property
    def code(self) -> str:
        """The job's code: the expression, the cell, or ``func(args)`` for a callable."""
        code = self._code
        if not isinstance(code, str):
            # A callable's description (the reprs of its arguments) is made
            # when first read, not on the start path: a repr can be slow.
            code = self._code = code()
        return code

    @property
    def elapsed(self) -> float | None:
        """Seconds the job has run (so far, if it still runs)."""
        if self.started is None:
            return None
        return (self.ended or time.time()) - self.started

    @property
    def output(self) -> str:
        """What the job printed (stdout and stderr), the last 1 MB at most."""
        buffer = self._output
        return "" if buffer is None else buffer.getvalue()

    @property
    def done(self) -> bool:
        """True once the job has ended (finished, failed or killed)."""
        return self.ended is not None

    def traceback(self) -> TracebackText | None:
        """The traceback of a failed or killed job, as text (None otherwise)."""
        if self.error is None:
            return None
        return TracebackText("".join(self.error["traceback"]))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job ends; True if it has ended."""
        with self._lock:
            if self.done:  # the end read _done_event under this lock: nobody would set a new one
                return True
            event = self._done_event
            if event is None:
                event = self._done_event = threading.Event()
        return event.wait(timeout)

    def kill(self, wait: float | None = 1.0) -> bool:
        """Kill the job; wait up to ``wait`` seconds; True if it is dead by then."""
        if context.current_job() is self:
            raise JobKilled()
        self.killer.request()
        if wait:
            self.wait(wait)
        return self.status == "killed"

    def __repr__(self) -> str:
        label = self.name or protocol.clip_head(" ".join(self.code.split()), 60)
        extra = " (kill requested)" if self.kill_requested and not self.done else ""
        return f"<Job {self.number} {self.status}{extra}: {label}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    # --- the wire record ------------------------------------------------------

    def to_wire(self) -> dict[str, Any]:
        """The job as the protocol's job record: bounded, and every string encodable.

        A job's texts come from user code and may hold lone surrogates, which
        jupyter_client cannot send (``protocol.encodable``); the error record
        and the result repr are made encodable once, when they are made.
        """
        output = self._output
        name, group, progress, blocked = self.name, self.group, self.progress, self.blocked_in
        if progress is not None and progress["desc"] is not None:
            progress = {**progress, "desc": protocol.wire_head(progress["desc"], protocol.MAX_DESC)}
        return {
            "uid": self.uid,
            "number": self.number,
            "name": None if name is None else protocol.wire_head(name, protocol.MAX_NAME),
            "code": protocol.wire_head(self.code, protocol.MAX_CODE),
            "kind": self.kind,
            "status": self.status,
            "group": None if group is None else protocol.wire_head(group, protocol.MAX_GROUP),
            "created": self.created,
            "started": self.started,
            "ended": self.ended,
            "result_repr": self._result_text(),
            "error": self.error,
            "output_tail": (
                ""
                if output is None
                else protocol.wire_tail(output.tail(protocol.MAX_OUTPUT_TAIL), protocol.MAX_OUTPUT_TAIL)
            ),
            "progress": progress,
            "kill_requested": self.kill_requested,
            "blocked_in": None if blocked is None else protocol.wire_head(blocked, protocol.MAX_WHERE),
            "where": self.where,
        }

    def _result_text(self) -> str | None:
        # Made on first request, not in the job's thread: most results are
        # never shown, and a repr can be expensive.
        if self.status != "finished":
            return None
        if self._result_repr is _UNSET:
            self._result_repr = bounded_repr(self.result)
        text: str | None = self._result_repr
        return text

    # --- the job's thread ---------------------------------------------------

    def start(self) -> None:
        """Start a job made with ``start=False`` (once, as a thread; ``jobs.new`` starts its jobs)."""
        try:
            self._thread.start()
        except RuntimeError as error:
            if self._thread.ident is None and not self.done:  # "can't start new thread": the system's limit
                self._settle_dead(("failed", error))
            raise  # or started already: "threads can only be started once"

    def _run(self) -> None:
        # One flat function on purpose: Thread.start() in the starting thread
        # waits for the GIL while this runs, so every call made and object
        # touched here until the job's code is reached, and after it for a job
        # that finishes at once, adds to the job's start (bench_job_start.py).
        this_thread.job = self  # from here on, this thread's waits, sockets and prints are the job's
        if self._parent:
            echo_to(self._parent)
        lock = self._lock
        with lock:
            runs = not self.kill_requested  # killed while queued: it never runs
            local = runs and not self.remote  # a remote job runs once a worker says so
            if local:
                self.status = "running"
                self.started = time.time()
                self.killer.arm(get_ident())
        feed = self._feed
        if local and feed.listening:
            feed.changed(self)
        outcome: Outcome | None = None
        try:
            try:
                if runs:
                    outcome = ("finished", self._call())
            except JobKilled as exc:
                outcome = ("killed", exc)
            except BaseException as exc:  # a job's failure is its result, never the thread's
                outcome = ("failed", exc)
            finally:
                if self.killer.disarm() and outcome is not None and outcome[0] == "finished":
                    outcome = ("killed", None)  # the kill was pending when the code returned
        except JobKilled as exc:
            # The kill landed after the job's code returned (a socket the kill
            # shut down made `recv` return), before injections stopped.
            outcome = ("killed", exc)
            self.killer.disarm()
        this_thread.job = None  # standard again: its id may soon be another thread's
        if self._output is not None:
            flush_echo()  # before `wait()` returns, so a job's last print shows under its cell
        self._call = _ended  # the call's arguments may be large: let them go
        if outcome is None or outcome[0] != "finished":
            self._settle_dead(outcome)
            return
        with lock:
            self.result = outcome[1]
            self.status = "finished"
            self.ended = time.time()  # last: `done` reads it without the lock
            event = self._done_event
        if event is not None:
            event.set()
        if feed.listening:
            feed.changed(self)

    def _settle_dead(self, outcome: Outcome | None) -> None:
        """End the job as failed or killed (``None``: killed with no exception to show)."""
        kind, value = outcome if outcome is not None else ("killed", None)
        if kind == "failed" and self.kill_requested:
            # The kill woke a blocking call that then failed (a socket that was
            # shut down, a child that was terminated): the kill caused it.
            kind = "killed"
        error = error_record(value, kind == "killed", self.started is not None)
        with self._lock:
            self.exception = value
            self.error = error
            self.status = kind
            self.blocked_in = None
            self.ended = time.time()  # last: `done` reads it without the lock
            event = self._done_event
        if event is not None:
            event.set()
        self._feed.changed(self)

    # --- a remote job's thread, as its backend reports (backends/remote.py) -------

    def attach_remote(self, task: RemoteTask) -> None:
        """The task that runs this job's work; a kill asked for before it existed goes to it now."""
        with self._lock:
            self.remote_task = task
            pending = self.kill_requested
        if pending:
            task.kill()

    def remote_started(self, where: dict[str, Any]) -> None:
        """A worker has started the job's work: ``running`` from now on, there."""
        with self._lock:
            self.where = where
            if self.status == "queued":
                self.status = "running"
                self.started = time.time()
        self._feed.changed(self)

    def remote_blocked_in(self, text: str | None) -> None:
        """Where the remote work waits while its kill is pending."""
        with self._lock:
            if self.ended is None and self.kill_requested:
                self.blocked_in = text
        self._feed.changed(self)

    # --- output and progress, called from the job's thread ---------------------

    def record_output(self, text: str) -> None:
        """Keep ``text`` that the job's thread wrote (called by the output routing, ``output.py``)."""
        buffer = self._output
        if buffer is None:  # only this job's thread writes: no race
            buffer = self._output = OutputBuffer()
        buffer.write(text)
        self._feed.changed(self)

    def record_progress(self, done: float, total: float | None, desc: str | None) -> None:
        """Set ``progress`` (called by ``progress()`` and ``report()``); listeners hear of it every 0.1 s at most."""
        self.progress = {"done": done, "total": total, "desc": desc}
        now = time.monotonic()
        if now - self._progress_pushed >= PROGRESS_INTERVAL or (total is not None and done >= total):
            self._progress_pushed = now
            self._feed.changed(self)
