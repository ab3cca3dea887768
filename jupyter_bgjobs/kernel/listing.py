"""``JobListing``: the reading half of the job manager (``jobs[N]``, ``jobs.running``, ``jobs.status()``...).

``JobManager`` (``manager.py``) adds starting and changing jobs; this part
only finds and shows them. Every method is thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from .. import protocol
from .errors import NoSuchJob
from .job import Job

JobList = list[Job]  # `list` is also a method name of JobListing


class JobListing:
    """The jobs of a manager by number and uid, and IPython's reading commands on them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._by_uid: dict[str, Job] = {}

    # --- finding jobs ---------------------------------------------------------

    def __getitem__(self, key: int | Job) -> Job:
        """The job of that number; a job of this manager stands for its own number, as in IPython."""
        with self._lock:
            if isinstance(key, Job):
                if self._jobs.get(key.number) is key:
                    return key
                raise NoSuchJob(f"job {key.number} is not in this manager (removed, or another manager's)")
            job = self._jobs.get(key) if isinstance(key, int) else None
        if job is None:
            raise NoSuchJob(f"no job number {key!r}")
        return job

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Any:
        return iter(self.list())

    def get(self, uid: str) -> Job:
        """The job with this uid."""
        job = self._by_uid.get(uid)
        if job is None:
            raise NoSuchJob(f"no job with uid {uid!r}")
        return job

    def resolve(self, target: Job | int | str) -> Job:
        """A job of this manager given as a Job, a number or a uid."""
        if isinstance(target, str):
            return self.get(target)
        if isinstance(target, Job) or (isinstance(target, int) and not isinstance(target, bool)):
            return self[target]
        raise NoSuchJob(f"not a job: {target!r}")

    def list(self) -> JobList:
        """Every job, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def _in(self, states: Iterable[str]) -> JobList:
        wanted = set(states)
        return [job for job in self.list() if job.status in wanted]

    @property
    def running(self) -> JobList:
        """Jobs queued or running."""
        return self._in(protocol.GROUPS["running"])

    @property
    def completed(self) -> JobList:
        """Jobs that finished normally."""
        return self._in(protocol.GROUPS["finished"])

    @property
    def dead(self) -> JobList:
        """Jobs that failed or were killed."""
        return self._in(protocol.GROUPS["dead"])

    @property
    def all(self) -> dict[int, Job]:
        """Every job by number."""
        with self._lock:
            return dict(self._jobs)

    # --- BackgroundJobManager's reading commands ------------------------------

    def result(self, number: int | Job) -> Any:
        """The result of job ``number`` (or of that job; None until it finishes)."""
        return self[number].result

    def traceback(self, number: int | Job | None = None) -> None:
        """Print the traceback of job ``number`` (or of that job), or of every dead job."""
        jobs = [self[number]] if number is not None else self.dead
        for job in jobs:
            text = job.traceback()
            if text:
                print(f"Traceback of job {job.number} ({job.status}):\n{text}")

    def __call__(self) -> None:
        """``jobs()``: the same as ``jobs.status()``, as in IPython."""
        self.status()

    def status(self, verbose: bool = False) -> None:
        """Print the jobs grouped as running, finished and dead."""
        from .table import format_table

        print(format_table(self.list(), verbose=verbose))
