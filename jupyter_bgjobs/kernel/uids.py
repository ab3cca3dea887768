"""Job uids: unique across kernels and restarts, and cheap enough for every job.

A uid is a random per-process prefix (64 bits from ``os.urandom``) and a
per-process counter: ``"5f0c2a9e17b4d3c8-2a"``. ``uuid4`` per job would cost
more than the rest of a job's start; the prefix makes collisions between
processes as unlikely as between uuid4s, and a forked child (a job that
uses ``multiprocessing``) draws a prefix of its own.
"""

from __future__ import annotations

import itertools
import os

_prefix = ""
_counter = itertools.count()


def _new_prefix() -> None:
    global _prefix, _counter
    _prefix = os.urandom(8).hex() + "-"
    _counter = itertools.count()


def new_uid() -> str:
    """A new job uid (at most 33 characters: letters, digits and one ``-``)."""
    # next() on itertools.count is atomic under the GIL: no lock needed.
    return f"{_prefix}{next(_counter):x}"


_new_prefix()
os.register_at_fork(after_in_child=_new_prefix)
