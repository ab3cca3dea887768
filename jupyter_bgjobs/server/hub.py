"""``RelayHub``: one ``KernelRelay`` per kernel the server runs.

It attaches to the kernels running when the server starts and to every
kernel started later, through the REST API or by JupyterLab alike (the
kernel manager's ``kernel_actions`` events, and a periodic reconciliation in
case one is missed); it marks unfinished jobs ``lost`` when their kernel
dies, restarts or shuts down, re-attaches after a restart, and detaches on
shutdown. It also keeps the store's notebook paths in step with the session
manager (``paths.py``: read from its session table, tens of microseconds).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .errors import Conflict, NotFound
from .paths import SessionPaths
from .relay import KernelRelay
from .store import JobStore

KERNEL_ACTIONS_SCHEMA = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
RECONCILE_INTERVAL = 2.0
PRUNE_INTERVAL = 600.0
# A kernel whose restarter fired is left alone until the restart completes,
# but not longer than this.
RESTART_GRACE = 60.0
# After a "start" event, how long to wait for the kernel manager to list the kernel.
START_WAIT = 10.0
START_POLL = 0.02


class RelayHub:
    """Keeps one relay per running kernel."""

    def __init__(
        self,
        kernel_manager: Any,
        session_manager: Any,
        store: JobStore,
        *,
        load_extension: bool = True,
        route: str = "control",
        log: logging.Logger | None = None,
    ) -> None:
        self.relays: dict[str, KernelRelay] = {}
        self._kernel_manager = kernel_manager
        self._sessions = SessionPaths(session_manager, log)
        self._store = store
        self._load_extension = load_extension
        self._route = route
        self._log = log or logging.getLogger(__name__)
        self._loop_task: asyncio.Task[None] | None = None
        self._restart_callbacks: dict[str, list[tuple[Callable[[], None], str]]] = {}
        self._restarting: dict[str, float] = {}  # kernel_id -> when its restarter fired
        self._tasks: set[asyncio.Future[Any]] = set()
        self._event_logger: Any = None
        self._stopped = False
        self._paths_read = -1e9  # time.monotonic() of the last reading of the sessions

    async def start(self, event_logger: Any) -> None:
        """Attach to the running kernels and follow the kernel manager."""
        self._event_logger = event_logger
        if event_logger is not None:
            event_logger.add_listener(schema_id=KERNEL_ACTIONS_SCHEMA, listener=self._on_kernel_action)
        await self._reconcile()
        self._loop_task = asyncio.ensure_future(self._reconcile_forever())

    async def stop(self) -> None:
        """Detach from every kernel (closing the comms: the kernels may live on)."""
        self._stopped = True
        if self._event_logger is not None:
            self._event_logger.remove_listener(schema_id=KERNEL_ACTIONS_SCHEMA, listener=self._on_kernel_action)
        if self._loop_task is not None:
            self._loop_task.cancel()
        for task in list(self._tasks):
            task.cancel()
        for kernel_id in list(self.relays):
            await self._detach(kernel_id, close_comms=True)

    def live_kernels(self) -> list[str]:
        return list(self._kernel_manager.list_kernel_ids())

    # --- following the kernel manager ---------------------------------------

    async def _on_kernel_action(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        kernel_id, action = data.get("kernel_id"), data.get("action")
        if not kernel_id or data.get("status") != "success" or self._stopped:
            return
        if action == "start":
            # The kernel manager lists a kernel a moment after this event.
            for _ in range(int(START_WAIT / START_POLL)):
                if kernel_id in self._kernel_manager:
                    break
                await asyncio.sleep(START_POLL)
            if kernel_id in self._kernel_manager and kernel_id not in self.relays:
                self._attach(kernel_id)
                await self.refresh_paths()
        elif action == "restart":
            await self._restarted(kernel_id, "the kernel was restarted")
        elif action == "shutdown":
            self._store.mark_lost(kernel_id, "the kernel was shut down")
            await self._detach(kernel_id, close_comms=False)

    async def _reconcile_forever(self) -> None:
        last_prune = time.monotonic()
        while True:
            await asyncio.sleep(RECONCILE_INTERVAL)
            try:
                await self._reconcile()
                if time.monotonic() - last_prune > PRUNE_INTERVAL:
                    last_prune = time.monotonic()
                    self._store.prune(self.live_kernels())
            except Exception:  # the loop must outlive any one failure
                self._log.exception("bgjobs: reconciling relays with kernels failed")

    async def _reconcile(self) -> None:
        running = set(self.live_kernels())
        now = time.monotonic()
        for kernel_id in running - set(self.relays):
            if now - self._restarting.get(kernel_id, -RESTART_GRACE) >= RESTART_GRACE:
                self._attach(kernel_id)
        for kernel_id in set(self.relays) - running:
            self._store.mark_lost(kernel_id, "the kernel is gone")
            self._spawn(self._detach(kernel_id, close_comms=False))
        for kernel_id, relay in list(self.relays.items()):
            if kernel_id in running and relay.connection_lost:
                # The kernel lives on: a new relay's snapshot tells what was missed.
                self._log.warning("bgjobs: lost the connection to kernel %s; attaching again", kernel_id)
                await self._detach(kernel_id, close_comms=False)
                self._attach(kernel_id, stale_comms=relay.comm_ids, fresh=False)
        await self.refresh_paths()

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        # Keep a reference: the loop holds tasks only weakly.
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _attach(self, kernel_id: str, stale_comms: tuple[str, ...] = (), fresh: bool = True) -> None:
        """Attach a relay; ``fresh=False``: the kernel had a relay that lost its connection (the extension is in).

        Any other kernel is taken as fresh: one the server has just started
        (or restarted), or found before its "start" event was handled, where
        the relay loads the extension before the notebook's first cell.
        """
        km = self._kernel_manager.get_kernel(kernel_id)
        self._restarting.pop(kernel_id, None)
        relay = KernelRelay(
            kernel_id,
            km,
            self._store,
            load_extension=self._load_extension,
            route=self._route,
            log=self._log,
            stale_comms=stale_comms,
            # Not in a kernel that had a relay: on ipykernel 7 a silent execute
            # becomes the parent of the output of the user's own threads.
            load_first=fresh,
        )
        self.relays[kernel_id] = relay
        if kernel_id not in self._restart_callbacks:
            # The restarter's callbacks: the kernel died (and is being
            # restarted), or died and could not be restarted.
            callbacks = [
                (lambda: self._spawn(self._died(kernel_id, restarting=True)), "restart"),
                (lambda: self._spawn(self._died(kernel_id, restarting=False)), "dead"),
            ]
            for callback, event in callbacks:
                km.add_restart_callback(callback, event)
            self._restart_callbacks[kernel_id] = callbacks
        relay.start()
        self._spawn(self._refresh_when_ready(relay))

    async def _refresh_when_ready(self, relay: KernelRelay) -> None:
        # A session (POST api/sessions) is saved just after its kernel starts:
        # by the time the relay is ready, its path is known.
        if await relay.wait_ready(RESTART_GRACE):
            await self.refresh_paths()

    async def _detach(self, kernel_id: str, close_comms: bool) -> None:
        relay = self.relays.pop(kernel_id, None)
        callbacks = self._restart_callbacks.pop(kernel_id, [])
        if callbacks and kernel_id in self._kernel_manager:
            km = self._kernel_manager.get_kernel(kernel_id)
            for callback, event in callbacks:
                km.remove_restart_callback(callback, event)
        if relay is not None:
            await relay.stop(close_comms=close_comms)

    async def _died(self, kernel_id: str, restarting: bool) -> None:
        self._store.mark_lost(kernel_id, "the kernel died")
        relay = self.relays.pop(kernel_id, None)
        if restarting:
            self._restarting[kernel_id] = time.monotonic()  # the "restart" action re-attaches
        if relay is not None:
            await relay.stop(close_comms=False)

    async def _restarted(self, kernel_id: str, reason: str) -> None:
        self._store.mark_lost(kernel_id, reason)
        relay = self.relays.pop(kernel_id, None)
        if relay is not None:
            await relay.stop(close_comms=False)
        if kernel_id in self._kernel_manager and not self._stopped:
            self._attach(kernel_id)

    # --- notebook paths -------------------------------------------------------

    async def refresh_paths(self, max_age: float = 0.0) -> None:
        """Tell the store the notebook (or console) paths of each running kernel.

        Nothing is read if the last reading is less than ``max_age`` seconds old.
        """
        if max_age and time.monotonic() - self._paths_read < max_age:
            return
        self._paths_read = time.monotonic()
        self._store.set_paths(await self._sessions.read(), self.live_kernels())

    # --- what handlers ask ------------------------------------------------------

    def relay_for(self, kernel_id: str) -> KernelRelay:
        """The relay of a running kernel."""
        if kernel_id not in self._kernel_manager:
            raise NotFound(f"no running kernel {kernel_id}")
        relay = self.relays.get(kernel_id)
        if relay is None:
            raise Conflict(f"kernel {kernel_id} is restarting or starting; try again in a moment")
        return relay
