"""Checks of the arguments that ``jobs.new`` and ``jobs.map`` take for the job itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_kw(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments with IPython's ``kw=`` mapping merged in."""
    kw = kwargs.pop("kw")
    if not isinstance(kw, Mapping):
        raise TypeError(
            "jobs.new: kw= holds the function's keyword arguments, as in IPython's BackgroundJobManager, "
            f"and must be a dict, not {type(kw).__name__}; to pass an argument named kw, write kw={{'kw': ...}}"
        )
    clash = sorted(set(kw) & set(kwargs))
    if clash:
        raise TypeError(f"jobs.new: keyword argument {clash[0]!r} given both in kw= and directly")
    return {**kwargs, **kw}


def check_name(what: str, name: Any) -> None:
    # A name travels in the job record; one the protocol does not take would
    # make the server refuse every push of the kernel that carries it.
    if name is not None and not isinstance(name, str):
        raise TypeError(f"a job's {what} must be a string or None, not {type(name).__name__}")
