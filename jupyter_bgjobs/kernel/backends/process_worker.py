"""A worker process of ``on="process"``: ``python -m jupyter_bgjobs.kernel.backends.process_worker FD``.

It runs one task at a time, as a job of a job engine of its own, so a task
in a worker is killed the way a thread job is in the kernel: ``JobKilled``
injected, sleeps, waits, sockets and child processes woken (standard
library only). What the kernel cannot get that way (a C call holding the
GIL) it gets by killing this process (``process_pool.py``).

Messages are pickled tuples on the connection ``FD``; one sender thread
writes them all, so a kill landing in a task never cuts a message in two.
Kernel to worker: ``("init", sys_path)``, ``("run", task, payload)``,
``("kill", task)``. Worker to kernel: ``("ready", pid)``, then per task
``started``, ``output``, ``progress``, ``blocked``, ``item`` and one ``ended``.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from multiprocessing.connection import Connection
from queue import SimpleQueue
from typing import Any

import cloudpickle

from ..blocking import install_blocking_patches
from ..errors import JobKilled
from ..job import Job
from ..manager import JobManager
from ..outcome import error_record, format_user_traceback
from ..progress import report
from .base import Work
from .shipping import remember_sources


class Worker:
    """The state of this worker process: the task it runs and the way to the kernel."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.outbox: SimpleQueue[tuple[Any, ...] | None] = SimpleQueue()
        self.tasks: SimpleQueue[tuple[int, bytes]] = SimpleQueue()
        self.lock = threading.Lock()
        self.send_lock = threading.Lock()
        self.task_id: int | None = None
        self.job: Job | None = None
        self.kill_asked: set[int] = set()
        self.manager = JobManager()
        self.manager.add_listener(self.forward_changes)
        self._sent: tuple[Any, ...] = ()

    def put(self, message: tuple[Any, ...]) -> None:
        self.outbox.put(message)

    def send_loop(self) -> None:
        while True:
            message = self.outbox.get()
            if message is None:
                return
            self.send_now(message)

    def send_now(self, message: tuple[Any, ...]) -> None:
        """Send from this thread (never a task's: a kill landing in it could cut the message)."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self.send_lock:
            self.conn.send_bytes(data)

    def receive_loop(self) -> None:
        while True:
            try:
                message = pickle.loads(self.conn.recv_bytes())
            except (EOFError, OSError):
                os._exit(0)  # the kernel is gone: so is its worker
            if message[0] == "run":
                self.tasks.put((message[1], message[2]))
            elif message[0] == "kill":
                self.kill(message[1])
            elif message[0] == "init":
                sys.path[:] = message[1]

    def kill(self, task_id: int) -> None:
        with self.lock:
            job = self.job if self.task_id == task_id else None
            if job is None:
                self.kill_asked.add(task_id)  # not started yet: killed when it starts
        if job is not None:
            job.killer.request()

    def forward_changes(self, changed: list[Job], removed: list[str]) -> None:
        """The feed's listener: progress, and where a killed task waits, go to the kernel."""
        with self.lock:
            job, task_id = self.job, self.task_id
        if job is None or job not in changed:
            return
        state = (task_id, job.progress, job.blocked_in)
        if state == self._sent:
            return
        self._sent = state
        if job.progress is not None:
            self.put(("progress", task_id, job.progress["done"], job.progress["total"], job.progress["desc"]))
        if job.kill_requested:
            self.put(("blocked", task_id, job.blocked_in))

    def run(self, task_id: int, payload: bytes, capture: Any) -> None:
        """Run one task to its end and report it."""
        try:
            work, sources = cloudpickle.loads(payload)
        except BaseException as error:  # a module the worker lacks, a broken __setstate__
            record = error_record(error, killed=False, started=False)
            record["evalue"] = f"the job could not be loaded in the worker process: {record['evalue']}"
            self.put(("ended", task_id, "failed", record))
            return
        remember_sources(work.func, sources)
        capture.start(task_id)
        # Sent before the task's thread starts, and from here: a task that
        # holds the GIL from its first line (a C call) would keep the sender
        # thread from ever telling the kernel that it runs.
        self.send_now(("started", task_id))
        job = self.manager.new(run_work, work, task_id, self.put, name=f"task {task_id}")
        with self.lock:
            self.task_id, self.job = task_id, job
            asked = task_id in self.kill_asked
            self.kill_asked.discard(task_id)
        if asked:
            job.killer.request()
        job.wait()
        capture.drain()
        with self.lock:
            self.task_id, self.job = None, None
        self.manager.remove(job)
        if job.progress is not None:  # the last one, which the feed may not have sent yet
            self.put(("progress", task_id, job.progress["done"], job.progress["total"], job.progress["desc"]))
        self.put(("ended", task_id, *ending(job)))


def ending(job: Job) -> tuple[str, Any]:
    """How the task's job ended, as the kernel is told: the result pickled, or the error record."""
    if job.status != "finished":
        return job.status, job.error
    try:
        return "finished", cloudpickle.dumps(job.result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        record = error_record(error, killed=False, started=True)
        record["evalue"] = f"the result cannot be sent back to the kernel: {record['evalue']}"
        return "failed", record


def run_work(work: Work, task_id: int, put: Any) -> Any:
    """The worker job's code: the call, or each item of a map chunk (each reported as it ends)."""
    if work.items is None:
        return work.func(*work.args, **work.kwargs)
    succeeded = 0
    for count, (index, item) in enumerate(work.items, 1):
        try:
            value = cloudpickle.dumps(work.func(item), protocol=pickle.HIGHEST_PROTOCOL)
        except JobKilled:
            raise
        except Exception as error:
            record = error_record(error, killed=False, started=True)
            record["traceback"] = format_user_traceback(error)
            put(("item", task_id, index, False, record))
        else:
            put(("item", task_id, index, True, value))
            succeeded += 1
        report(count, len(work.items), work.label)
    return succeeded


def main() -> None:
    """Serve tasks on the connection whose file descriptor is the first argument."""
    from .worker_output import OutputCapture

    # A task that computes holds the GIL; the threads that take a kill from
    # the kernel and send the task's end wait for it up to the switch
    # interval each (5 ms by default). They are idle otherwise, so a shorter
    # interval costs a CPU-bound task nothing measurable.
    sys.setswitchinterval(0.001)
    worker = Worker(Connection(int(sys.argv[1])))
    capture = OutputCapture(worker.put)
    install_blocking_patches()
    threading.Thread(target=worker.send_loop, name="bgjobs-worker-send", daemon=True).start()
    threading.Thread(target=worker.receive_loop, name="bgjobs-worker-receive", daemon=True).start()
    worker.put(("ready", os.getpid()))
    while True:
        task_id, payload = worker.tasks.get()
        worker.run(task_id, payload, capture)


if __name__ == "__main__":
    main()
