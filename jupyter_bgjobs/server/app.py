"""The jupyter-server extension ``jupyter_bgjobs``: relays, store and REST API."""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool

from .handlers import route_table
from .hub import RelayHub
from .store import JobStore


class BgJobsApp(ExtensionApp):
    """Sees the background jobs of every kernel of this server."""

    name = "jupyter_bgjobs"

    load_into_kernels = Bool(
        True,
        config=True,
        help="Load the kernel extension into Python kernels that do not have it yet "
        "(when jupyter_bgjobs is importable there).",
    )

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        self.store = JobStore()
        self.hub = RelayHub(
            self.serverapp.kernel_manager,
            self.serverapp.session_manager,
            self.store,
            load_extension=self.load_into_kernels,
            log=self.log,
        )
        self.settings.update(bgjobs_store=self.store, bgjobs_hub=self.hub)
        # Start attaching once the loop runs. `_start_jupyter_server_extension`
        # alone is not enough: servers embedded without `start()` (tests,
        # some launchers) never call it.
        IOLoop.current().add_callback(self._start_hub)

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def _start_hub(self) -> None:
        await self.hub.start(getattr(self.serverapp, "event_logger", None))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        await self._start_hub()

    async def stop_extension(self) -> None:
        await self.hub.stop()
