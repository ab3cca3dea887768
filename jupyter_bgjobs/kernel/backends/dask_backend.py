"""``on="dask"``: jobs as tasks of a dask.distributed cluster, killed for real (worker side: ``dask_worker.py``).

A job is one task (``client.submit(run_task, ...)``, never pure: each job
runs). What the task reports (started, output, progress, items, its end)
comes as events on a topic of this backend's own, in the order the task
sent them; a result of up to 64 kB (pickled) comes in the ``ended`` event,
a larger one as the task's dask result.

Kill, in this order (``DaskTask.kill`` returns at once, a thread of the
backend does the rest):

1. cancel the future, so that dask never runs the task again or starts it later;
2. ask the task's worker (``client.run``) to kill it as the kernel kills a
   thread job (``dask_worker.kill_task``); the job ends ``killed`` when the
   task's ``ended`` event says so;
3. if the worker has not answered within ``KILL_GRACE`` (a C call that
   holds the GIL also stops the worker's own loop), or the task has not
   ended ``KILL_GRACE`` after its answer, stop that worker: ``SIGKILL`` when it
   runs on this machine (its nanny starts a new one), else
   ``client.restart_workers``; the job ends ``killed`` when the scheduler
   reports the worker removed.

A worker that dies under a task ends it ``failed`` (``WorkerDied``), or
``killed`` if a kill was pending.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import Future as CallFuture
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

import cloudpickle

from .base import Backend, RemoteTask, TaskEvents, Work, where_record
from .shipping import pickle_work

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)

# A kill that has not ended the task this long after it reached the worker
# costs that worker: it is stopped (and, with a nanny, replaced).
KILL_GRACE = 0.5
# A kill of a task not known to have started says which workers it waits for after this long.
ASK_WORKERS = 1.0
_KILLED = "jupyter_bgjobs.JobKilled"
DaskFuture = Any  # distributed.Future (the extra's types are not checked here)


class DaskTask(RemoteTask):
    """One job's task: queued, then running on a worker, then ended."""

    def __init__(self, backend: DaskBackend, task_id: str, events: TaskEvents) -> None:
        self.backend = backend
        self.id = task_id
        self.events = events
        self.future: DaskFuture | None = None
        self.worker: str | None = None
        self.pid: int | None = None
        self.host: str | None = None
        self.kill_requested = False
        self.ended = threading.Event()

    @property
    def started(self) -> bool:
        return self.worker is not None

    def kill(self) -> None:
        self.backend.kill_soon(self)


class FutureValue:
    """A value that comes back as the task's dask result: the result, or one held item."""

    def __init__(self, future: DaskFuture, index: int | None = None) -> None:
        self.future = future
        self.index = index


class DaskBackend(Backend):
    """Jobs on the workers of one ``distributed.Client``."""

    name = "dask"

    def __init__(self, client: Client, owned: tuple[Any, ...]) -> None:
        self.client = client
        self._owned = owned  # what close() closes: the client and cluster made here
        self.topic = f"jupyter-bgjobs-{uuid.uuid4().hex}"
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._tasks: dict[str, DaskTask] = {}
        self._watched: set[str] = set()
        # Kills, and the client.run calls they make (apart: a kill waits for its calls).
        self._kills = ThreadPoolExecutor(32, thread_name_prefix="bgjobs-dask-kill")
        self._calls = ThreadPoolExecutor(32, thread_name_prefix="bgjobs-dask-run")
        self.address: str = client.scheduler.address
        self.dashboard = _dashboard(client)
        client.subscribe_topic(self.topic, self._on_event)

    # --- Backend ------------------------------------------------------------------

    def prepare(self, work: Work) -> bytes:
        return pickle_work(work, "dask", "a dask worker")

    def submit(self, prepared: bytes, events: TaskEvents) -> RemoteTask:
        from .dask_worker import run_task

        task = DaskTask(self, f"{self.topic}-{next(self._ids)}", events)
        with self._lock:
            self._tasks[task.id] = task
        # key: dask's name for the task (the dashboard shows it); pure=False: every job runs.
        task.future = future = self.client.submit(run_task, prepared, task.id, self.topic, key=task.id, pure=False)
        future.add_done_callback(lambda done: self._future_done(task, done))
        return task

    def load(self, value: Any) -> Any:
        if isinstance(value, FutureValue):
            got = value.future.result()
            data = got["result"] if value.index is None else got["held"][value.index]
            return cloudpickle.loads(data)
        return cloudpickle.loads(value)

    def queued_where(self) -> dict[str, Any]:
        return where_record("dask", address=self.address, dashboard=self.dashboard)

    def close(self) -> None:
        self._kills.shutdown(wait=False, cancel_futures=True)
        self._calls.shutdown(wait=False, cancel_futures=True)
        for owned in self._owned:
            try:
                owned.close()
            except Exception:  # the kernel is exiting: say it, go on
                log.exception("bgjobs: closing %r failed", owned)

    # --- what the tasks report (on the client's loop) -------------------------------------

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        msg = event[1]
        with self._lock:
            task = self._tasks.get(msg["t"])
        if task is None or task.ended.is_set():
            return  # late news of a task that has ended
        kind = msg["k"]
        events = task.events
        if kind == "output":
            events.output(msg["stream"], msg["text"])
        elif kind == "progress":
            events.progress(msg["done"], msg["total"], msg["desc"])
        elif kind == "item":
            events.item(msg["index"], msg["ok"], msg["value"])
        elif kind == "blocked":
            events.blocked_in(msg["text"])
        elif kind == "started":
            self._started(task, msg)
        elif kind == "ended":
            self._ended_event(task, msg)

    def _started(self, task: DaskTask, msg: dict[str, Any]) -> None:
        with self._lock:
            if task.started:  # again: dask re-ran it after its worker died; that ends it
                return
            task.worker, task.pid, task.host = msg["worker"], msg["pid"], msg["host"]
            watch = task.worker not in self._watched
            self._watched.add(task.worker)
        if watch:  # the scheduler logs a worker's removal on the worker's address
            address = task.worker
            self.client.subscribe_topic(address, lambda event: self._worker_event(address, event[1]))
        task.events.started(where_record("dask", address=self.address, worker=task.worker, dashboard=self.dashboard))

    def _ended_event(self, task: DaskTask, msg: dict[str, Any]) -> None:
        how = msg["how"]
        if how != "finished":
            self._end(task, how, msg["error"])
            return
        if "value" in msg:
            self._end(task, "finished", msg["value"])
            return
        while task.future is None:  # submit() has not stored it yet (it returns at once)
            time.sleep(0.001)
        for index in msg["held"]:
            task.events.item(index, True, FutureValue(task.future, index))
        self._end(task, "finished", FutureValue(task.future))

    def _worker_event(self, address: str, msg: dict[str, Any]) -> None:
        if not isinstance(msg, dict) or msg.get("action") != "remove-worker":
            return
        with self._lock:
            self._watched.discard(address)
            lost = [t for t in self._tasks.values() if t.worker == address and not t.ended.is_set()]
        for task in lost:
            if task.kill_requested:
                evalue = f"killed on request: the dask worker {address} was stopped"
                self._end(task, "killed", _killed_record(evalue))
            else:
                future = task.future
                self._end(task, "failed", _died_record(task, "while it ran the job"))
                self._kills.submit(self._forget, task, future)

    def _future_done(self, task: DaskTask, future: DaskFuture) -> None:
        """The task's future ended; only what no event reports is handled here (in a thread of dask's)."""
        if task.ended.is_set() or future.status == "finished":
            return
        if future.status == "cancelled":
            if not task.kill_requested:
                evalue = "the dask task was cancelled outside jupyter-bgjobs (the client closed?)"
                self._end(task, "failed", {"ename": "CancelledError", "evalue": evalue, "traceback": []})
            return
        try:
            error = future.exception()
        except Exception as exc:  # cancelled or lost meanwhile
            error = exc
        if type(error).__name__ == "KilledWorker":
            record = _died_record(task, f"while it ran the job ({error})")
        else:
            record = {"ename": type(error).__name__, "evalue": str(error), "traceback": []}
        if task.kill_requested:
            ended_with = f"{record['ename']}: {record['evalue']}"
            self._end(task, "killed", _killed_record(f"killed on request (it ended with {ended_with})"))
        else:
            self._end(task, "failed", record)

    def _end(self, task: DaskTask, how: Any, value: Any) -> None:
        with self._lock:
            if task.ended.is_set():
                return
            task.ended.set()
            self._tasks.pop(task.id, None)
        task.events.ended(how, value)
        # A result now lives in its FutureValue, until the job's thread has loaded it.
        task.future = None

    # --- kill (threads of the backend) -------------------------------------------------

    def kill_soon(self, task: DaskTask) -> None:
        """Start the kill of ``task`` (at most once) and return."""
        with self._lock:
            if task.kill_requested or task.ended.is_set():
                return
            task.kill_requested = True
        self._kills.submit(self._kill, task)

    def _kill(self, task: DaskTask) -> None:
        from .dask_worker import kill_task

        future = task.future
        if future is not None:
            future.cancel()  # first: dask neither starts it later nor runs it again
        if not task.started:
            if self._never_starts(task):
                self._end(task, "killed", None)
                return
            if task.ended.wait(KILL_GRACE):  # from the worker's answer: the kill is under way there
                return
        else:
            assert task.worker is not None
            call = self._calls.submit(self._run_on, kill_task, task.id, task.worker)
            try:
                call.result(KILL_GRACE)
            except Exception:  # no answer in time (a call holding the GIL stops the worker's loop too)
                answered = False
            else:  # the grace counts from here: a swamped machine delays the answer, not the kill
                answered = True
            if task.ended.wait(KILL_GRACE if answered else 0):
                return
        # A worker said it runs the task: its "started" event is on its way.
        while not task.started and not task.ended.wait(0.05):
            pass
        self._stop_worker(task)

    def _never_starts(self, task: DaskTask) -> bool:
        """Tell every worker not to start the (cancelled) task; True once each has answered that it does not run it.

        False as soon as it has started (its event came, or a worker said it
        kills it). A worker that does not answer (a call there holds the
        GIL) is waited for, never assumed: the kill stays pending meanwhile.
        """
        from .dask_worker import kill_task

        calls: dict[str, CallFuture[Any]] | None = None
        began = time.monotonic()
        said_why = False
        while not task.started and not task.ended.is_set():
            if calls is None:
                try:
                    workers = list(self.client.scheduler_info(n_workers=-1)["workers"])
                except Exception:  # the scheduler is busy or away: ask again
                    task.ended.wait(0.2)
                    continue
                calls = {address: self._calls.submit(self._run_on, kill_task, task.id, address) for address in workers}
            pending = [address for address, call in calls.items() if not call.done()]
            answers = [call.result() for call in calls.values() if call.done() and call.exception() is None]
            if "killing" in answers:
                return False
            if not pending:
                return True  # (a worker that failed to answer has died: it runs nothing)
            if not said_why and time.monotonic() - began > ASK_WORKERS:
                said_why = True
                task.events.blocked_in(f"waiting for dask worker {', '.join(pending)} to answer the kill")
            wait([calls[address] for address in pending], timeout=0.05)
        return False

    def _run_on(self, func: Any, task_id: str, address: str) -> Any:
        return self.client.run(func, task_id, workers=[address]).get(address)

    def _stop_worker(self, task: DaskTask) -> None:
        worker, pid = task.worker, task.pid
        if worker is None:
            return
        local = task.host == socket.gethostname() and pid is not None
        how = f"process {pid} killed" if local else "restarted"
        task.events.blocked_in(f"dask worker {worker}: the task did not stop within {KILL_GRACE} s; worker {how}")
        if local:
            assert pid is not None
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            try:
                self.client.restart_workers([worker], raise_for_error=False)
            except Exception:
                log.exception("bgjobs: restarting the dask worker %s failed", worker)
        # The job ends when the scheduler reports the worker removed
        # (_worker_event); until then it is still running, kill pending.
        while not task.ended.wait(1.0):
            try:
                present = worker in self.client.scheduler_info(n_workers=-1)["workers"]
            except Exception:
                continue
            if not present:
                self._worker_event(worker, {"action": "remove-worker"})

    def _forget(self, task: DaskTask, future: DaskFuture | None) -> None:
        """A worker died under a task: cancel it and make sure no re-run of it lives on."""
        from .dask_worker import kill_task

        if future is not None:
            future.cancel()
        try:
            workers = list(self.client.scheduler_info(n_workers=-1)["workers"])
        except Exception:
            log.exception("bgjobs: the dask scheduler did not say which workers there are")
            return
        for address in workers:
            self._calls.submit(self._run_on, kill_task, task.id, address)


def _killed_record(evalue: str) -> dict[str, Any]:
    return {"ename": "JobKilled", "evalue": evalue, "traceback": [f"{_KILLED}: {evalue}\n"]}


def _died_record(task: DaskTask, when: str) -> dict[str, Any]:
    evalue = f"the dask worker {task.worker} (pid {task.pid}) died {when}"
    return {"ename": "WorkerDied", "evalue": evalue, "traceback": [f"WorkerDied: {evalue}\n"]}


def _dashboard(client: Client) -> str | None:
    """The dashboard's link, or None when the scheduler serves none (without bokeh its page asks for bokeh)."""
    try:
        if "dashboard" not in client.scheduler_info(n_workers=0).get("services", {}):
            return None
        link: str = client.dashboard_link
    except Exception:
        return None
    return link or None
