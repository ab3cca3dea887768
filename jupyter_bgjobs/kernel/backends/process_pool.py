"""The kernel's side of ``on="process"``: worker processes, one task each at a time, and the thread that drives them.

Why a runner of our own rather than ``ProcessPoolExecutor``, loky or Pebble:
killing one running task must cost no other task anything (see
docs/architecture.md). Each worker runs one task; killing a task that does
not stop within ``KILL_GRACE`` kills its worker process alone, and a new
one takes its place when there is work for it.

One dispatcher thread per pool owns every worker: it starts them (never
from a job's thread: a killed job's sockets are shut down), sends them
tasks and kills, reads what they report, and notices when one dies. Workers
are started with ``subprocess`` running ``python -m ...process_worker``:
the kernel, which has many threads, is never forked.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Connection, Pipe, wait
from queue import SimpleQueue
from typing import Any

from .base import RemoteTask, TaskEvents, where_record

log = logging.getLogger(__name__)

# A task that has not stopped this long after its kill was sent (a C call
# holding the GIL, a `finally:` that takes its time) loses its worker process.
KILL_GRACE = 0.04
_KILLED = "jupyter_bgjobs.JobKilled"


class ProcessTask(RemoteTask):
    """A task of the pool: queued, then on a worker, then ended."""

    def __init__(self, pool: WorkerPool, task_id: int, payload: bytes, events: TaskEvents) -> None:
        self.pool = pool
        self.id = task_id
        self.payload = payload
        self.events = events
        self.kill_requested = False
        self.ended = False

    def kill(self) -> None:
        self.pool.command("kill", self)


class WorkerProcess:
    """One worker process, as the dispatcher sees it."""

    def __init__(self) -> None:
        here, there = Pipe()
        self.conn: Connection = here
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "jupyter_bgjobs.kernel.backends.process_worker", str(there.fileno())],
            pass_fds=(there.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        there.close()
        self.pid = self.popen.pid
        self.ready = False
        self.task: ProcessTask | None = None
        self.kill_deadline: float | None = None  # when a task that does not stop costs the process
        self.terminated = False

    def send(self, *message: Any) -> None:
        try:
            self.conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # it died: the dispatcher reads the end of its connection next
            pass


class WorkerPool:
    """Worker processes for ``on="process"`` jobs: at most ``size`` at once, started when work comes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._queue: deque[ProcessTask] = deque()
        self._commands: SimpleQueue[tuple[str, Any]] = SimpleQueue()
        self._workers: list[WorkerProcess] = []
        self._ids = itertools.count(1)
        self._closed = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._thread = threading.Thread(target=self._run, name="bgjobs-process-pool", daemon=True)
        self._thread.start()

    # --- any thread -------------------------------------------------------------

    def submit(self, payload: bytes, events: TaskEvents) -> ProcessTask:
        task = ProcessTask(self, next(self._ids), payload, events)
        self.command("submit", task)
        return task

    def command(self, what: str, arg: Any = None) -> None:
        self._commands.put((what, arg))
        try:
            os.write(self._wake_write, b"!")
        except BlockingIOError:  # the pipe is full of wake-ups already
            pass

    def close(self) -> None:
        self.command("close")
        self._thread.join(5)

    # --- the dispatcher thread ----------------------------------------------------

    def _run(self) -> None:
        while not self._closed:
            try:
                self._step()
            except Exception as error:  # every remote job waits on this thread: it must go on
                log.exception("bgjobs: the process pool's dispatcher failed")
                record = {"ename": type(error).__name__, "evalue": f"the process pool failed: {error}", "traceback": []}
                while self._queue:  # e.g. no worker process could be started
                    self._end(self._queue.popleft(), "failed", record)
        for worker in self._workers:
            worker.popen.kill()
            worker.popen.wait()

    def _step(self) -> None:
        """One turn: commands, workers, tasks, then wait for news or a kill deadline."""
        self._handle_commands()
        self._start_workers()
        self._assign()
        now = time.monotonic()
        deadlines = [w.kill_deadline for w in self._workers if w.kill_deadline is not None and not w.terminated]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        ready = wait([self._wake_read, *(w.conn for w in self._workers)], timeout)
        for source in ready:
            if source == self._wake_read:
                os.read(self._wake_read, 4096)
        for worker in list(self._workers):
            if worker.conn in ready:
                self._receive(worker)
        self._escalate(time.monotonic())

    def _handle_commands(self) -> None:
        while not self._commands.empty():
            what, arg = self._commands.get()
            if what == "submit":
                self._queue.append(arg)
            elif what == "kill":
                self._kill(arg)
            elif what == "reserve":
                self.size = max(self.size, arg)
            elif what == "close":
                self._closed = True

    def _kill(self, task: ProcessTask) -> None:
        if task.ended or task.kill_requested:
            return
        task.kill_requested = True
        if task in self._queue:  # no worker has it: it never runs
            self._queue.remove(task)
            self._end(task, "killed", None)
            return
        for worker in self._workers:
            if worker.task is task:
                worker.send("kill", task.id)
                worker.kill_deadline = time.monotonic() + KILL_GRACE

    def _start_workers(self) -> None:
        idle = sum(1 for w in self._workers if w.task is None)
        while len(self._queue) > idle and len(self._workers) < self.size:
            worker = WorkerProcess()
            worker.send("init", list(sys.path))
            self._workers.append(worker)
            idle += 1

    def _assign(self) -> None:
        for worker in self._workers:
            if not self._queue:
                return
            if worker.ready and worker.task is None:
                task = worker.task = self._queue.popleft()
                worker.send("run", task.id, task.payload)
                task.payload = b""  # sent: let it go

    def _receive(self, worker: WorkerProcess) -> None:
        try:
            while worker.conn.poll():
                self._handle(worker, pickle.loads(worker.conn.recv_bytes()))
        except (EOFError, OSError):
            self._died(worker)

    def _handle(self, worker: WorkerProcess, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            return
        task = worker.task
        if task is None or message[1] != task.id:
            return  # late news of a task that has ended
        events = task.events
        if kind == "output":
            events.output(message[2], message[3])
        elif kind == "progress":
            events.progress(message[2], message[3], message[4])
        elif kind == "started":
            events.started(where_record("process", pid=worker.pid))
        elif kind == "item":
            events.item(message[2], message[3], message[4])
        elif kind == "blocked":
            events.blocked_in(message[2])
        elif kind == "ended":
            worker.task = None
            worker.kill_deadline = None
            self._end(task, message[2], message[3])

    def _escalate(self, now: float) -> None:
        for worker in self._workers:
            if worker.kill_deadline is not None and now >= worker.kill_deadline and not worker.terminated:
                worker.terminated = True
                if worker.task is not None:
                    worker.task.events.blocked_in(f"worker process {worker.pid}: did not stop, being killed")
                worker.popen.kill()

    def _died(self, worker: WorkerProcess) -> None:
        self._workers.remove(worker)
        worker.conn.close()
        try:
            code = worker.popen.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        task = worker.task
        if task is not None and task.kill_requested:
            evalue = f"killed on request: worker process {worker.pid} did not stop within {KILL_GRACE} s and was killed"
            self._end(task, "killed", {"ename": "JobKilled", "evalue": evalue, "traceback": [f"{_KILLED}: {evalue}\n"]})
        elif task is not None:
            self._end(task, "failed", _died_record(worker.pid, code, "while it ran the job"))
        elif not worker.ready:
            # It could not even start: do not start another for ever; say why to what waits.
            record = _died_record(worker.pid, code, "while it started")
            while self._queue:
                self._end(self._queue.popleft(), "failed", record)

    def _end(self, task: ProcessTask, how: str, value: Any) -> None:
        task.ended = True
        task.events.ended(how, value)  # type: ignore[arg-type]


def _died_record(pid: int, code: int | None, when: str) -> dict[str, Any]:
    if code is not None and code < 0:
        try:
            how = f"killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit code {code}"
    evalue = f"the worker process {pid} died ({how}) {when}"
    return {"ename": "WorkerDied", "evalue": evalue, "traceback": [f"WorkerDied: {evalue}\n"]}
