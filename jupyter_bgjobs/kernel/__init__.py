"""The kernel side: jobs, kill, output, progress, magics and the comm endpoint."""

from .errors import JobError, JobKilled, JobStateError, NoSuchJob
from .job import Job
from .manager import JobManager
from .progress import progress, report

__all__ = ["Job", "JobError", "JobKilled", "JobManager", "JobStateError", "NoSuchJob", "progress", "report"]
