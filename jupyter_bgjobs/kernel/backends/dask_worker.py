"""In a dask worker: run one ``on="dask"`` task as a job of a job engine of the worker's own, and kill it on request.

``run_task`` is what the kernel submits. The task's code runs in a job
thread of that engine (as in a process worker, ``process_worker.py``), so
a kill is the kernel's kill: ``JobKilled`` injected, ``time.sleep`` and
``threading`` waits woken, sockets shut down, child processes terminated.
``JobKilled`` lands in that job thread and ends there: dask's own executor
thread, which only waits for the job, never sees an exception (an injected
``KeyboardInterrupt`` would kill the worker, and dask would run the task again).

Everything else travels as events on the kernel's topic
(``worker.log_event``, heard by ``client.subscribe_topic``), each
``{"t": task id, "k": kind, ...}``: ``started``, ``output``, ``progress``,
``blocked``, ``item`` and one ``ended`` (with the result when it is
small). A result or item result too big for an event is the task's dask result.
"""

from __future__ import annotations

import contextvars
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

import cloudpickle

from ..blocking import _original_sleep, install_blocking_patches
from ..context import this_thread
from ..job import Job
from ..manager import JobManager
from ..outcome import error_record
from .process_worker import ending, run_work
from .shipping import remember_sources

# A task forwards at most this much output (the kernel keeps the last 1 MB
# of a job's output anyway), in events of at most EVENT_TEXT characters,
# gathered for FLUSH_DELAY seconds: the scheduler keeps the last events of
# a topic in memory, so few and bounded.
MAX_FORWARD = 1_000_000
EVENT_TEXT = 16_000
FLUSH_DELAY = 0.02
# An item result (or a result) larger than this comes back as the task's dask result, not in an event.
ITEM_EVENT_MAX = 64_000
# How long at most the task waits for its "started" event to leave the
# worker before its code runs (a few ms unless the machine is swamped).
STARTED_FLUSH = 5.0


class TaskRun:
    """One task on this worker: its job, the way to the kernel, its output not yet sent."""

    def __init__(self, task_id: str, topic: str, worker: Any) -> None:
        self.id = task_id
        self.topic = topic
        self.worker = worker
        self.job: Job | None = None
        self.kill_asked = False
        self.held: dict[int, bytes] = {}
        self.lock = threading.Lock()
        self.pending: list[tuple[str, str]] = []
        self.forwarded = 0
        self.flush_planned = False
        self.sent: tuple[Any, ...] = ()

    def event(self, kind: str, **data: Any) -> None:
        self.worker.log_event(self.topic, {"t": self.id, "k": kind, **data})

    def write(self, stream: str, text: str) -> None:
        """What the task printed: sent in a moment, with what it prints meanwhile."""
        with self.lock:
            left = MAX_FORWARD - self.forwarded
            if left <= 0:
                return
            if len(text) > left:
                text = text[:left] + f"\n[jupyter-bgjobs: output beyond {MAX_FORWARD} characters dropped]\n"
            self.forwarded += len(text)
            self.pending.append((stream, text))
            plan = not self.flush_planned
            self.flush_planned = True
        if plan:
            loop = self.worker.loop
            loop.add_callback(lambda: loop.call_later(FLUSH_DELAY, self.flush))

    def flush(self) -> None:
        """Send the output gathered so far (on the worker's loop, or from the task's thread at its end)."""
        with self.lock:
            pending, self.pending = self.pending, []
            self.flush_planned = False
        merged: list[list[str]] = []
        for stream, text in pending:
            if merged and merged[-1][0] == stream:
                merged[-1][1] += text
            else:
                merged.append([stream, text])
        for stream, text in merged:
            for start in range(0, len(text), EVENT_TEXT):
                self.event("output", stream=stream, text=text[start : start + EVENT_TEXT])

    def put(self, message: tuple[Any, ...]) -> None:
        """``run_work``'s reports (``("item", task, index, ok, value)``)."""
        _, _, index, ok, value = message
        self.flush()  # what the item printed comes first
        if ok and len(value) > ITEM_EVENT_MAX:
            self.held[index] = value
            return
        self.event("item", index=index, ok=ok, value=value)


class WorkerState:
    """This worker process's engine: its tasks, the kills asked for tasks not started yet."""

    def __init__(self) -> None:
        install_blocking_patches()
        # A task that computes holds the GIL; the worker's loop, which takes
        # a kill and sends the task's events, waits for it up to the switch
        # interval at each step (5 ms by default). As in a process worker.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        self.manager = JobManager()
        self.lock = threading.Lock()
        self.runs: dict[str, TaskRun] = {}
        self.by_job: dict[Job, TaskRun] = {}
        self.kill_asked: set[str] = set()
        self.manager.add_listener(self.forward_changes)
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if not isinstance(stream, TaskStream):
                setattr(sys, name, TaskStream(stream, name, self))

    def forward_changes(self, changed: list[Job], removed: list[str]) -> None:
        """The feed's listener: progress, and where a killed task waits, go to the kernel."""
        with self.lock:
            runs = [(job, self.by_job.get(job)) for job in changed]
        for job, run in runs:
            if run is not None:
                send_state(run, job)


def send_state(run: TaskRun, job: Job) -> None:
    """Send the task's progress and (while a kill is pending) where it waits, if they changed."""
    state = (job.progress, job.blocked_in)
    if state == run.sent:
        return
    run.sent = state
    if job.progress is not None:
        run.event("progress", done=job.progress["done"], total=job.progress["total"], desc=job.progress["desc"])
    if job.kill_requested:
        run.event("blocked", text=job.blocked_in)


class TaskStream:
    """``sys.stdout``/``sys.stderr`` of the worker: a task's job thread writes go to its task's output."""

    def __init__(self, wrapped: TextIO, name: str, state: WorkerState) -> None:
        self.wrapped = wrapped
        self.name = name
        self.state = state

    def write(self, text: str) -> int:
        job = this_thread.job
        run = self.state.by_job.get(job) if job is not None else None
        if run is None or not isinstance(text, str):
            return self.wrapped.write(text)
        run.write(self.name, text)
        return len(text)

    def flush(self) -> None:
        self.wrapped.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


_state: WorkerState | None = None
_state_lock = threading.Lock()


def worker_state() -> WorkerState:
    """This process's ``WorkerState`` (made on the first task)."""
    global _state
    with _state_lock:
        if _state is None:
            _state = WorkerState()
        return _state


def send_flushed(worker: Any, topic: str, msg: dict[str, Any]) -> None:
    """Log an event and wait (up to ``STARTED_FLUSH``) until it has been written to the scheduler.

    A task whose first line is a C call that holds the GIL (a catastrophic
    regular expression) would keep the worker's loop from sending anything
    until it returns: the kernel would never hear that it started.
    """
    full = {"op": "log-event", "topic": topic, "msg": msg}
    worker.loop.add_callback(worker.batched_send, full)
    log = worker.batched_stream.recent_message_log  # each written batch, once written
    deadline = time.monotonic() + STARTED_FLUSH
    while time.monotonic() < deadline:
        for back in range(1, 9):
            try:
                batch = log[-back]
            except (IndexError, RuntimeError):
                break
            if isinstance(batch, list) and any(message is full for message in batch):
                return
        _original_sleep(0.0005)


def run_task(payload: bytes, task_id: str, topic: str) -> dict[str, Any] | None:
    """The dask task of one job: run it as a job here, report it, return its result (pickled)."""
    from distributed import get_worker
    from distributed.worker import thread_state

    worker = get_worker()
    state = worker_state()
    run = TaskRun(task_id, topic, worker)
    with state.lock:
        if task_id in state.kill_asked:  # killed before it started: the kernel has ended it
            state.kill_asked.discard(task_id)
            return None
        state.runs[task_id] = run
    try:
        started = {"t": task_id, "k": "started", "worker": worker.address, "pid": os.getpid()}
        send_flushed(worker, topic, {**started, "host": socket.gethostname()})
        try:
            work, sources = cloudpickle.loads(payload)
        except BaseException as error:  # a module the worker lacks, a broken __setstate__
            record = error_record(error, killed=False, started=False)
            record["evalue"] = f"the job could not be loaded in the dask worker: {record['evalue']}"
            run.event("ended", how="failed", error=record)
            return None
        remember_sources(work.func, sources)
        # The task's code may ask dask where it runs (get_worker()): its job
        # thread gets the executor thread's context and dask's thread state.
        context = contextvars.copy_context()
        dask_state = dict(vars(thread_state))
        job = state.manager.new(_in_job, context, dask_state, state, run, work, name=task_id)
        with state.lock:
            run.job = job
            asked = run.kill_asked
        if asked:
            job.killer.request()
        job.wait()
        run.flush()
        with state.lock:
            state.by_job.pop(job, None)
        state.manager.remove(job)
        run.sent = ()
        send_state(run, job)  # the last progress, which the feed may not have sent
        how, value = ending(job)
        if how != "finished":
            run.event("ended", how=how, error=value)
            return None
        if len(value) <= ITEM_EVENT_MAX and not run.held:
            # Small: in the event, which saves the kernel fetching the task's dask result.
            run.event("ended", how="finished", held=[], value=value)
            return None
        run.event("ended", how="finished", held=sorted(run.held))
        return {"result": value, "held": run.held}
    finally:
        with state.lock:
            state.runs.pop(task_id, None)


def _in_job(
    context: contextvars.Context, dask_state: dict[str, Any], state: WorkerState, run: TaskRun, work: Any
) -> Any:
    from distributed.worker import thread_state

    for name, value in dask_state.items():
        setattr(thread_state, name, value)
    job = this_thread.job
    assert job is not None
    with state.lock:
        state.by_job[job] = run  # from its first print on
    call: Callable[..., Any] = run_work
    return context.run(call, work, run.id, run.put)


def kill_task(task_id: str) -> str:
    """Run by the kernel on the task's worker (``client.run``): kill it, or make sure it never starts here."""
    state = worker_state()
    with state.lock:
        run = state.runs.get(task_id)
        if run is None:
            state.kill_asked.add(task_id)
            return "not running"
        run.kill_asked = True
        job = run.job
    if job is not None:
        job.killer.request()
    return "killing"
