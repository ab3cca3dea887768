"""Retention: the ended jobs of gone kernels are forgotten by age and by number, in the background.

It works in chunks on the history's thread (``history_sql``), so that the
event loop and the other reads and writes of the history go on in between,
and each chunk's jobs are announced as removed. The pages the removals
freed are then given back to the file system (incremental vacuum), so the
file's size follows what it holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from . import history_sql

# Jobs removed (and announced) per chunk, and the pause between chunks.
CHUNK = 1000
PAUSE = 0.06
VACUUM_PAGES = 2000

Call = Callable[..., Awaitable[Any]]
Announce = Callable[[list[str]], None]


async def prune(call: Call, announce: Announce, cutoff: float, max_jobs: int, log: logging.Logger) -> int:
    """Forget past ended jobs that ended before ``cutoff`` or beyond the newest ``max_jobs``; how many."""
    bound = await call(history_sql.prune_bound, cutoff, max_jobs)
    removed = 0
    while bound is not None:
        uids = await call(history_sql.prune_chunk, bound, CHUNK) or []
        announce(uids)
        removed += len(uids)
        if len(uids) < CHUNK:
            break
        await asyncio.sleep(PAUSE)  # requests and writes go in between
    if removed:
        log.info("bgjobs: retention removed %d job(s) of gone kernels", removed)
        await vacuum(call)
    return removed


async def vacuum(call: Call) -> None:
    """Give the pages freed by removals back to the file system, a chunk at a time."""
    left = await call(history_sql.vacuum, VACUUM_PAGES)
    while left:
        await asyncio.sleep(0)  # one chunk per turn of the loop
        left = await call(history_sql.vacuum, VACUUM_PAGES)
