"""The job manager of a kernel: the ``jobs`` object in the user namespace.

Its API follows IPython's ``BackgroundJobManager`` (``new``, ``jobs[N]``,
``result``, ``traceback``, ``remove``, ``flush``, ``status``, ``running``,
``completed``, ``dead``) and adds kill, uids, listeners and ``map``. Every
method is thread-safe: commands arrive from the main thread, subshell
threads and comm handlers.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from typing import Any

from .arguments import check_name, merge_kw
from .backends import Backend, Work, backend_for
from .backends.remote import chunk_call, run_remote
from .backends.shipping import expression_work
from .code import compile_cell, compile_expression, describe_call, describe_function, forget_source, job_filename
from .errors import JobError, JobStateError, NoSuchJob
from .feed import ChangeFeed, Listener
from .group import JobGroup, chunks
from .job import Job
from .kill import request_kills
from .listing import JobList, JobListing
from .output import current_parent
from .reaper import Reaper


class JobManager(JobListing):
    """Runs and keeps the background jobs of one process (finding and showing them: ``JobListing``)."""

    def __init__(self) -> None:
        super().__init__()
        self._next_number = 0
        self._groups: dict[str, JobGroup] = {}
        self._feed = ChangeFeed()
        self._reaper = Reaper()

    # --- starting jobs --------------------------------------------------------

    def new(self, func_or_exp: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> Job:
        """Start a job, as IPython's ``BackgroundJobManager.new`` does.

        - ``jobs.new(func, *args, **kwargs)`` calls ``func(*args, **kwargs)``.
          ``kw`` is IPython's way to pass keyword arguments and is read as
          there: ``jobs.new(func, x, kw={"z": 1})`` calls ``func(x, z=1)``.
          It must be a mapping (``kw=5`` raises TypeError); a function
          parameter named ``kw`` is reached through it: ``kw={"kw": 5}``.
        - ``jobs.new("expression")`` evaluates the expression in the caller's
          globals and locals (the user namespace, in a notebook);
          ``jobs.new("expression", glob)`` or ``jobs.new("expression", glob, loc)``
          in the mappings given.

        Keywords ``name``, ``daemon`` and ``on`` belong to the job and are not
        passed on. ``on`` says where the job runs: None or ``"thread"`` (a
        thread of the kernel), ``"process"`` (a worker process; see docs/backends.md).
        """
        name = kwargs.pop("name", None)
        daemon = kwargs.pop("daemon", True)
        on = kwargs.pop("on", None)
        if isinstance(func_or_exp, str):
            if len(args) > 2 or kwargs:
                raise TypeError("an expression job takes at most two more arguments: globals and locals")
            if not args:
                frame = sys._getframe(1)
                glob, loc = frame.f_globals, frame.f_locals
            else:
                glob = args[0]
                loc = args[1] if len(args) == 2 else glob
            return self.run_expression(func_or_exp, glob, loc, name=name, daemon=daemon, on=on)
        if not callable(func_or_exp):
            raise TypeError(f"jobs.new takes a callable or an expression string, not {type(func_or_exp).__name__}")
        if "kw" in kwargs:
            kwargs = merge_kw(kwargs)
        backend = backend_for(on)
        call: Callable[[], Any]
        if backend is not None:
            prepared = backend.prepare(Work(func_or_exp, args, kwargs))
            call = functools.partial(run_remote, backend, prepared)
        else:
            call = functools.partial(func_or_exp, *args, **kwargs) if args or kwargs else func_or_exp
        return self._create(
            lambda number: call,
            lambda: describe_call(func_or_exp, args, kwargs),
            "func",
            name,
            daemon=daemon,
            func=func_or_exp,
            backend=backend,
        )

    def run_expression(
        self,
        expr: str,
        namespace: dict[str, Any],
        local_ns: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        daemon: bool = True,
        start: bool = True,
        on: Any = None,
    ) -> Job:
        """Evaluate ``expr`` in ``namespace`` in a new job; a syntax error raises at once.

        With ``start=False`` the caller starts it (``job.start()``), e.g. after
        announcing it, so that the announcement comes before the job's output.
        With ``on=`` a backend (``"process"``), the names the expression uses
        are copied from the namespace now, and it is evaluated there.
        """
        expr = expr.strip()
        if not expr:
            raise SyntaxError("no expression to run")
        backend = backend_for(on)

        def make_call(number: int) -> Callable[[], Any]:
            if backend is None:
                return compile_expression(expr, job_filename(number), namespace, local_ns)
            prepared = backend.prepare(expression_work(expr, job_filename(number), namespace, local_ns))
            return functools.partial(run_remote, backend, prepared)

        return self._create(make_call, expr, "expr", name, daemon=daemon, start=start, backend=backend)

    def run_cell(
        self,
        source: str,
        namespace: dict[str, Any],
        *,
        name: str | None = None,
        start: bool = True,
        code: str | None = None,
    ) -> Job:
        """Run statements in ``namespace`` in a new job; its last expression is the result.

        ``code`` is what the job shows as its code when ``source`` is a
        transformed version of it (IPython turns ``%magic`` lines into calls).
        """
        if not source.strip():
            raise SyntaxError("no code to run")
        return self._create(
            lambda number: compile_cell(source, job_filename(number), namespace),
            source if code is None else code,
            "cell",
            name,
            start=start,
        )

    def map(
        self,
        func: Callable[[Any], Any],
        iterable: Iterable[Any],
        workers: int = 8,
        name: str | None = None,
        on: Any = None,
    ) -> JobGroup:
        """Call ``func`` on every item in ``workers`` jobs (``on=`` as for ``new``); see ``JobGroup``."""
        backend = backend_for(on)
        if not callable(func):
            raise TypeError(f"jobs.map takes a callable, not {type(func).__name__}")
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers must be a positive integer, not {workers!r}")
        check_name("name", name)
        items = list(iterable)
        with self._lock:
            if name is None:
                name = f"map-{len(self._groups)}"
            if name in self._groups and self._groups[name].status == "running":
                raise JobStateError(f"a map named {name!r} is still running")
            group = self._groups[name] = JobGroup(name, func, items)
        indices = [chunk for chunk in chunks(range(len(items)), workers) if chunk]
        try:
            calls = [chunk_call(group, chunk, backend) for chunk in indices]  # pickled now: refused now
        except BaseException:
            with self._lock:
                if self._groups.get(name) is group:
                    del self._groups[name]
            raise
        if backend is not None:
            backend.reserve(len(indices))
        label = describe_function(func)
        for part, (chunk, call) in enumerate(zip(indices, calls), 1):
            code = f"jobs.map({label}, ...): chunk {part}/{len(indices)}, {len(chunk)} items"
            job = self._create(
                functools.partial(lambda call, number: call, call),
                code,
                "map",
                f"{name} [{part}/{len(indices)}]",
                name,
                start=False,
                backend=backend,
            )
            group.jobs.append(job)
        # Started once the group is whole: its status and wait() see every job.
        for job in group.jobs:
            job.start()
        return group

    def group(self, name: str) -> JobGroup:
        """The ``jobs.map`` group of that name."""
        try:
            return self._groups[name]
        except KeyError:
            raise NoSuchJob(f"no map group named {name!r}") from None

    def _create(
        self,
        make_call: Callable[[int], Callable[[], Any]],
        code: str | Callable[[], str],
        kind: str,
        name: str | None,
        group: str | None = None,
        daemon: bool = True,
        start: bool = True,
        func: Callable[..., Any] | None = None,
        backend: Backend | None = None,
    ) -> Job:
        check_name("name", name)
        check_name("group", group)
        parent = current_parent()
        with self._lock:
            number = self._next_number
            call = make_call(number)  # a SyntaxError here starts nothing, uses no number
            self._next_number += 1
            job = Job(
                number,
                call,
                feed=self._feed,
                reaper=self._reaper,
                code=code,
                kind=kind,
                name=name,
                group=group,
                parent=parent,
                daemon=daemon,
                func=func,
                where=None if backend is None else backend.queued_where(),
            )
            self._jobs[number] = job
            self._by_uid[job.uid] = job
        self._feed.changed(job)
        if start:
            job.start()
        return job

    # --- changing commands ----------------------------------------------------

    def kill(self, target: Job | int | str = "all", wait: float | None = 1.0) -> bool:
        """Kill one job (a Job, a number, a uid) or ``"all"``; True if all died within ``wait``."""
        if target == "all":
            jobs = self.kill_all()
        else:
            job = self.resolve(target)
            job.killer.require()
            jobs = [job]
        for job in jobs:
            if wait:
                job.wait(wait)
        return all(job.status == "killed" for job in jobs)

    def kill_all(self, group: str | None = None) -> JobList:
        """Ask every running job (of ``group``, if given) to die; the ones asked."""
        jobs = [job for job in self.running if group is None or job.group == group]
        return [job for job, asked in zip(jobs, request_kills(job.killer for job in jobs)) if asked]

    def kill_many(self, uids: Iterable[str]) -> tuple[JobList, dict[str, JobError]]:
        """Ask the jobs of these uids to die, all at once; the jobs asked, and why not for each other uid."""
        found = {uid: self._by_uid.get(uid) for uid in uids}  # a uid named twice counts once
        jobs = [job for job in found.values() if job is not None]
        asked = dict(zip(jobs, request_kills(job.killer for job in jobs)))
        refused: dict[str, JobError] = {
            uid: NoSuchJob(f"no job with uid {uid!r}") if job is None else job.killer.not_running()
            for uid, job in found.items()
            if job is None or not asked[job]
        }
        return [job for job in jobs if asked[job]], refused

    def remove(self, target: Job | int | str) -> None:
        """Forget an ended job."""
        job = self.resolve(target)
        if not job.done:
            raise JobStateError(f"job {job.number} is still {job.status}: kill it first")
        self._forget(job)

    def flush(self) -> int:
        """Forget every ended job; how many were forgotten."""
        ended = [job for job in self.list() if job.done]
        for job in ended:
            self._forget(job)
        return len(ended)

    def _forget(self, job: Job) -> None:
        with self._lock:
            if self._jobs.get(job.number) is not job:
                return  # removed meanwhile by another thread
            del self._jobs[job.number]
            self._by_uid.pop(job.uid, None)
            group = self._groups.get(job.group) if job.group else None
            if group is not None and not any(member.number in self._jobs for member in group.jobs):
                # Its last job is gone: let its items and results go too.
                del self._groups[group.name]
        forget_source(job.number)
        self._feed.removed(job.uid)

    # --- listeners (the comm layer is one) -------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(changed_jobs, removed_uids)`` with batches of changes."""
        self._feed.add_listener(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._feed.remove_listener(listener)

    def __repr__(self) -> str:
        return f"<JobManager: {len(self.running)} running, {len(self.completed)} finished, {len(self.dead)} dead>"
