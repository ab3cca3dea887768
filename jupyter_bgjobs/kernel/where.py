"""Where a job's thread is: for tracebacks and for ``blocked_in``."""

from __future__ import annotations

import os
import sys
import sysconfig
from types import FrameType

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
_BACKENDS_DIR = os.path.join(_ENGINE_DIR, "backends")
# Library code (the standard library, installed packages) is where a job
# waits; the user's own frame above it is where the job is.
_LIBRARY_DIRS = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")})


def is_engine_file(filename: str) -> bool:
    """True for source files of this package's kernel engine and its backends (not the user's code)."""
    folder = os.path.dirname(filename)
    return folder in (_ENGINE_DIR, _BACKENDS_DIR)


def is_engine_frame(frame: FrameType) -> bool:
    """True for frames of this package's kernel engine."""
    return is_engine_file(frame.f_code.co_filename)


def _describe(frame: FrameType) -> str:
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def blocked_in(thread_id: int, frames: dict[int, FrameType] | None = None) -> str | None:
    """Where a thread is, as ``file:line in function`` of the user's innermost frame.

    When the thread waits inside library code, the library frame it
    waits in follows, e.g. ``<job 3>:2 in <module> (waiting in .../threading.py:324 in wait)``.
    ``frames`` is ``sys._current_frames()`` when the caller has it (it lists
    every thread of the process: the reaper reads it once for all its jobs).
    """
    frame = (sys._current_frames() if frames is None else frames).get(thread_id)
    while frame is not None and is_engine_frame(frame):
        frame = frame.f_back
    if frame is None:
        return None
    innermost = frame
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame = frame.f_back
    if frame is None or frame is innermost:
        return _describe(innermost)
    return f"{_describe(frame)} (waiting in {_describe(innermost)})"
