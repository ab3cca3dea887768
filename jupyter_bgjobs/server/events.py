"""``JobEvents``: job changes pushed through the server's event bus (``jupyter_events``).

The browser subscribes with ``app.serviceManager.events.stream`` and filters
on ``schema_id``. Changes are coalesced: everything the store reports during
``window`` seconds is one event, ``{"changed": [Job], "removed": [uid]}``,
each Job exactly as ``GET jupyter-bgjobs/jobs`` returns it.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .model import job_to_rest
from .store import Record

SCHEMA_ID = "https://events.jupyter-bgjobs.org/jobs/v1"
SCHEMA_PATH = pathlib.Path(__file__).parent / "jobs-event-v1.json"
WINDOW = 0.05


class JobEvents:
    """Listens to the store and emits one event per batch of changes."""

    def __init__(
        self,
        event_logger: Any,
        *,
        refresh: Callable[[], Awaitable[None]] | None = None,
        window: float = WINDOW,
        log: logging.Logger | None = None,
    ) -> None:
        self._event_logger = event_logger
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
        if self._timer is None and self._task is None:
            self._timer = asyncio.get_running_loop().call_later(self._window, self._end_of_window)

    def _end_of_window(self) -> None:
        self._timer = None
        self._task = asyncio.ensure_future(self._refresh_then_flush())

    async def _refresh_then_flush(self) -> None:
        try:
            if self._refresh is not None:
                # The notebook paths as GET jobs would give them now (a
                # session may have been created since the job changed).
                await self._refresh()
        except Exception:
            self._log.exception("bgjobs: could not refresh the notebook paths")
        finally:
            self._task = None
            self.flush()

    def stop(self) -> None:
        """Emit what is pending now, and nothing later."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.flush()

    def flush(self) -> None:
        """Emit what changed since the last event (if anything did)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._changed and not self._removed:
            return
        now = time.time()
        data = {
            "changed": [job_to_rest(record, now) for record in self._changed.values()],
            "removed": list(self._removed),
        }
        self._changed, self._removed = {}, {}
        try:
            self._event_logger.emit(schema_id=SCHEMA_ID, data=data)
        except Exception:  # a listener's failure must not reach the relays
            self._log.exception("bgjobs: could not emit a jobs event")
