"""``JobEvents``: job changes pushed through the server's event bus (``jupyter_events``).

The browser subscribes with ``app.serviceManager.events.stream`` and filters
on ``schema_id``. Changes are coalesced: everything the store reports during
``window`` seconds is one event, ``{"changed": [Job], "removed": [uid]}``,
each Job exactly as ``GET jupyter-bgjobs/jobs`` returns it (a batch of more
than ``MAX_JOBS`` jobs is sent as several events).
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .model import RestViews
from .store import Record

SCHEMA_ID = "https://events.jupyter-bgjobs.org/jobs/v1"
SCHEMA_PATH = pathlib.Path(__file__).parent / "jobs-event-v1.json"
WINDOW = 0.05
# jupyter_events deep-copies and validates every event on the event loop
# (about 80 us a job): a burst of thousands of changes is sent in parts, the
# loop free for other work between them (bench/bench_loop_stall.py).
MAX_JOBS = 50


class _Fresh(list):  # type: ignore[type-arg]
    """Jobs made for one event and held by nothing else: ``deepcopy`` need not copy them.

    ``jupyter_events`` deep-copies every event's data before its modifiers
    run, to protect the caller's objects; these are copies already (``RestViews.get``
    makes a new dict each call). The copy was the largest single cost of a
    burst on the event loop (about 57 us a job, bench/bench_loop_stall.py).
    The jobs' nested values (``error``, ``progress``, ``paths``) are shared
    with ``RestViews``' cache: a modifier registered for this schema (the
    extension registers none) must not change them in place.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> _Fresh:
        return self


class JobEvents:
    """Listens to the store and emits one event per batch of changes."""

    def __init__(
        self,
        event_logger: Any,
        *,
        views: RestViews | None = None,
        refresh: Callable[[], Awaitable[None]] | None = None,
        window: float = WINDOW,
        log: logging.Logger | None = None,
    ) -> None:
        self._event_logger = event_logger
        self._views = views or RestViews()
        self._refresh = refresh
        self._window = window
        self._log = log or logging.getLogger(__name__)
        self._changed: dict[str, Record] = {}
        self._removed: dict[str, None] = {}  # ordered set
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    def register_schema(self) -> None:
        """Register the event's schema (before any client subscribes)."""
        if SCHEMA_ID not in self._event_logger.schemas.schema_ids:
            self._event_logger.register_event_schema(SCHEMA_PATH)

    def on_change(self, changed: list[Record], removed: list[str]) -> None:
        """A store listener: remember the changes, emit them at the end of the window."""
        for record in changed:
            self._changed[record["uid"]] = record
            self._removed.pop(record["uid"], None)
        for uid in removed:
            self._changed.pop(uid, None)
            self._removed[uid] = None
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None and self._task is None and (self._changed or self._removed):
            self._timer = asyncio.get_running_loop().call_later(self._window, self._end_of_window)

    def _end_of_window(self) -> None:
        self._timer = None
        self._task = asyncio.ensure_future(self._refresh_then_emit())

    async def _refresh_then_emit(self) -> None:
        try:
            if self._refresh is not None:
                # The notebook paths as GET jobs would give them now (a
                # session may have been created since the job changed).
                await self._refresh()
        except Exception:
            self._log.exception("bgjobs: could not refresh the notebook paths")
        try:
            for data in self._take():
                self._emit(data)
                await asyncio.sleep(0)  # let requests in between the parts of a big batch
        finally:
            self._task = None
            self._schedule()  # what changed meanwhile

    def stop(self) -> None:
        """Emit what is pending now, and nothing later."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.flush()

    def flush(self) -> None:
        """Emit what changed since the last event, at once."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for data in self._take():
            self._emit(data)

    def _take(self) -> list[dict[str, Any]]:
        """The pending changes as event data: one event, or parts of MAX_JOBS jobs for a big batch.

        Each part's jobs are still records here; ``_emit`` turns them into
        Job JSON just before it emits that part, so a burst of thousands of
        changes is never converted in one go on the event loop.
        """
        if not self._changed and not self._removed:
            return []
        changed = list(self._changed.values())
        parts: list[dict[str, Any]] = [
            {"changed": changed[at : at + MAX_JOBS], "removed": []} for at in range(0, len(changed), MAX_JOBS)
        ]
        if not parts:
            parts = [{"changed": [], "removed": []}]
        parts[-1]["removed"] = list(self._removed)
        self._changed, self._removed = {}, {}
        return parts

    def _emit(self, part: dict[str, Any]) -> None:
        """Emit one part of ``_take``, its records as REST shows them now."""
        now = time.time()
        changed = _Fresh(self._views.get(record, now) for record in part["changed"])
        data = {"changed": changed, "removed": list(part["removed"])}
        try:
            self._event_logger.emit(schema_id=SCHEMA_ID, data=data)
        except Exception:  # a listener's failure must not reach the relays
            self._log.exception("bgjobs: could not emit a jobs event")
