"""Exceptions of the job engine."""

from __future__ import annotations

from .context import current_job


class JobKilled(KeyboardInterrupt):
    """Raised inside a job's thread to kill it.

    A KeyboardInterrupt subclass on purpose: ``except Exception:`` does not
    swallow it, asyncio re-raises it, and ``threading.excepthook`` reports it.
    The interpreter creates it in the target thread (it is injected as a
    class), so ``__init__`` is where the job learns that a kill reached it.
    """

    # Shown in tracebacks, and importable, as `jupyter_bgjobs.JobKilled`.
    __module__ = "jupyter_bgjobs"

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("job killed on request",)))
        job = current_job()
        if job is not None:
            job.killer.landed()


class JobError(Exception):
    """A job command that cannot be carried out; the message says why."""


class NoSuchJob(JobError, KeyError):
    """No job has that number (or uid)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class JobStateError(JobError):
    """The job is not in a state where that command applies."""
