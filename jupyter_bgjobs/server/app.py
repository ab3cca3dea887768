"""The jupyter-server extension ``jupyter_bgjobs``: relays, store, events and REST API."""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool, CaselessStrEnum, Float, Int, Unicode, default

from .. import protocol
from .events import JobEvents
from .handlers import route_table
from .history import History
from .hub import RelayHub
from .model import RestViews
from .store import JobStore
from .transport import ROUTES

# How long stopping waits for a start still under way.
STOP_WAIT = 30.0
# How old the notebook paths in an event may be (the sessions are read again
# after that; a reading of the session table costs tens of microseconds, REST
# reads it on every request).
PATHS_MAX_AGE = 0.1


class BgJobsApp(ExtensionApp):
    """Sees the background jobs of every kernel of this server."""

    name = "jupyter_bgjobs"

    load_into_kernels = Bool(
        True,
        config=True,
        help="Load the kernel extension into Python kernels that do not have it yet "
        "(when jupyter_bgjobs is importable there).",
    )

    command_route = CaselessStrEnum(
        ROUTES,
        default_value="control",
        config=True,
        help="Where the server sends its requests (kill, list, resync) to a kernel. 'control': the "
        "kernel's control channel, served by jupyter_bgjobs on ipykernel 6 and 7 while the main shell "
        "is busy. 'subshell': a kernel subshell of the server's own (ipykernel 7; 'control' elsewhere); "
        "on ipykernel 7.4 it makes the print output of the user's own threads go astray.",
    )

    history_file = Unicode(
        config=True,
        help="The SQLite file that keeps the jobs of past kernels across server restarts. "
        "Empty: keep no history on disk.",
    )

    @default("history_file")
    def _default_history_file(self) -> str:
        return os.path.join(jupyter_data_dir(), "jupyter_bgjobs", "history.sqlite")

    history_max_age_days = Float(
        30.0,
        min=0.0,
        config=True,
        help="Forget ended jobs of kernels that are gone after this many days.",
    )

    history_max_jobs = Int(
        10_000,
        min=0,
        config=True,
        help="Keep at most this many ended jobs of kernels that are gone (the newest).",
    )

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        self._untrack_control_messages()
        history = History(self.history_file, self.log) if self.history_file else None
        self.store = JobStore(
            history, log=self.log, max_age_days=self.history_max_age_days, max_jobs=self.history_max_jobs
        )
        self.hub = RelayHub(
            self.serverapp.kernel_manager,
            self.serverapp.session_manager,
            self.store,
            load_extension=self.load_into_kernels,
            route=self.command_route,
            log=self.log,
        )
        self.views = RestViews()
        self.store.add_listener(self.views.on_change)
        self.store.add_evict_listener(self.views.forget)
        self.events = JobEvents(
            self.serverapp.event_logger,
            views=self.views,
            # A job that prints changes every 20 ms: read the sessions 10 times a second at most.
            refresh=functools.partial(self.hub.refresh_paths, max_age=PATHS_MAX_AGE),
            log=self.log,
        )
        self.events.register_schema()
        self.store.add_listener(self.events.on_change)
        self.settings.update(bgjobs_store=self.store, bgjobs_hub=self.hub, bgjobs_views=self.views)
        self._started: asyncio.Future[None] | None = None
        # Start once the loop runs. `_start_jupyter_server_extension` alone is
        # not enough: servers embedded without `start()` (tests, some
        # launchers) never call it.
        IOLoop.current().add_callback(self._start)

    def _untrack_control_messages(self) -> None:
        """Statuses caused by the relays' control messages say nothing of the notebook.

        The kernel publishes busy/idle around each control message; without
        this, a kill while a cell runs shows the notebook idle, in
        jupyter_server's execution_state and in JupyterLab, which reads the
        same list from its page config (built when JupyterLab loads, after
        this extension: extensions load in alphabetical order).
        """
        assert self.serverapp is not None
        ours = list(protocol.CONTROL_CHANNEL_TYPES.values())
        kernel_manager = self.serverapp.kernel_manager
        known = list(getattr(kernel_manager, "untracked_message_types", []))
        kernel_manager.untracked_message_types = [*known, *(kind for kind in ours if kind not in known)]
        page_config = self.serverapp.web_app.settings.get("page_config_data", {})
        if "untracked_message_types" in page_config:  # JupyterLab loaded first after all
            page_config["untracked_message_types"] = list(kernel_manager.untracked_message_types)

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def _start(self) -> None:
        if self._started is None:
            self._started = asyncio.ensure_future(self._open())
        await self._started

    async def _open(self) -> None:
        await self.store.open(self.hub.live_kernels())
        await self.hub.start(self.serverapp.event_logger if self.serverapp else None)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        await self._start()

    async def stop_extension(self) -> None:
        if self._started is not None:
            try:
                # Opening is short (the history loads, the hub attaches).
                await asyncio.wait_for(asyncio.shield(self._started), STOP_WAIT)
            except Exception:  # a failed or stuck start: stop what there is
                self.log.exception("bgjobs: the extension did not start properly")
        await self.hub.stop()
        self.events.stop()
        await self.store.close()
