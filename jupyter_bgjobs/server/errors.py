"""What can go wrong with a request, without HTTP: handlers.py maps these to status codes."""

from __future__ import annotations


class BgJobsError(Exception):
    """A request that cannot be carried out; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(BgJobsError):
    """A parameter or body the API does not take."""


class NotFound(BgJobsError):
    """No job or kernel with that id."""


class Conflict(BgJobsError):
    """The job or kernel is not in a state where the operation applies."""


class Unavailable(BgJobsError):
    """The kernel's jobs endpoint cannot answer now (it timed out or went away)."""
