"""``RelayHub``: one ``KernelRelay`` per kernel the server runs.

It attaches to the kernels running when the server starts and to every
kernel started later (the kernel manager's ``kernel_actions`` events, and a
periodic reconciliation in case an event is missed), re-attaches after a
restart, detaches on shutdown, and marks unfinished jobs ``lost`` when their
kernel dies or restarts.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .relay import KernelRelay
from .store import JobStore

KERNEL_ACTIONS_SCHEMA = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
RECONCILE_INTERVAL = 2.0


class RelayHub:
    def __init__(
        self, kernel_manager: Any, session_manager: Any, store: JobStore, *, load_extension: bool, log: logging.Logger
    ) -> None:
        self.relays: dict[str, KernelRelay] = {}
        self._kernel_manager = kernel_manager
        self._session_manager = session_manager
        self._store = store
        self._load_extension = load_extension
        self._log = log
        self._reconciler: asyncio.Task[None] | None = None
        self._restart_callbacks: dict[str, Any] = {}
        self._started = False
        self._tasks: set[asyncio.Future[Any]] = set()

    async def start(self, event_logger: Any) -> None:
        """Attach to the running kernels and follow the kernel manager (once)."""
        if self._started:
            return
        self._started = True
        if event_logger is not None:
            event_logger.add_listener(schema_id=KERNEL_ACTIONS_SCHEMA, listener=self._on_kernel_action)
        self._reconcile()
        self._reconciler = asyncio.ensure_future(self._reconcile_forever())

    async def stop(self) -> None:
        if self._reconciler is not None:
            self._reconciler.cancel()
        for kernel_id in list(self.relays):
            await self._detach(kernel_id, close_comms=True)

    # --- following the kernel manager ---------------------------------------

    async def _on_kernel_action(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        kernel_id, action = data.get("kernel_id"), data.get("action")
        if not kernel_id or data.get("status") != "success":
            return
        if action == "restart":
            await self._restarted(kernel_id, "the kernel was restarted")
        elif action == "shutdown":
            self._store.mark_lost(kernel_id, "the kernel was shut down")
            await self._detach(kernel_id, close_comms=False)
        elif action == "start":
            # The kernel manager lists a kernel only once it is ready.
            self._reconcile()

    async def _reconcile_forever(self) -> None:
        while True:
            await asyncio.sleep(RECONCILE_INTERVAL)
            self._reconcile()

    def _reconcile(self) -> None:
        running = set(self._kernel_manager.list_kernel_ids())
        for kernel_id in running - set(self.relays):
            self._attach(kernel_id)
        for kernel_id in set(self.relays) - running:
            self._store.mark_lost(kernel_id, "the kernel is gone")
            self._spawn(self._detach(kernel_id, close_comms=False))

    def _spawn(self, coroutine: Any) -> None:
        # Keep a reference: the loop holds tasks only weakly.
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _attach(self, kernel_id: str) -> None:
        km = self._kernel_manager.get_kernel(kernel_id)
        relay = KernelRelay(kernel_id, km, self._store, load_extension=self._load_extension, log=self._log)
        self.relays[kernel_id] = relay
        if kernel_id not in self._restart_callbacks:
            # The restarter's callback: the kernel died and was started again.
            callback = self._restart_callbacks[kernel_id] = lambda: self._spawn(
                self._restarted(kernel_id, "the kernel died and was restarted")
            )
            km.add_restart_callback(callback, "restart")
        relay.start()

    async def _detach(self, kernel_id: str, close_comms: bool) -> None:
        relay = self.relays.pop(kernel_id, None)
        callback = self._restart_callbacks.pop(kernel_id, None)
        if callback is not None and kernel_id in self._kernel_manager:
            self._kernel_manager.get_kernel(kernel_id).remove_restart_callback(callback, "restart")
        if relay is not None:
            await relay.stop(close_comms=close_comms)

    async def _restarted(self, kernel_id: str, reason: str) -> None:
        self._store.mark_lost(kernel_id, reason)
        relay = self.relays.pop(kernel_id, None)
        if relay is not None:
            await relay.stop(close_comms=False)
        if kernel_id in self._kernel_manager:
            self._attach(kernel_id)

    # --- what handlers ask ------------------------------------------------------

    async def paths_by_kernel(self) -> dict[str, list[str]]:
        """Notebook (or console) paths of each kernel, from the session manager."""
        paths: dict[str, list[str]] = {}
        for session in await self._session_manager.list_sessions():
            kernel = session.get("kernel") or {}
            if kernel.get("id") and session.get("path"):
                paths.setdefault(kernel["id"], []).append(session["path"])
        return paths
