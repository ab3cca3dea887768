"""``KernelRelay``: the server's connection to the jobs endpoint of one kernel.

It composes four parts, each in a module of its own:

- ``KernelTransport`` (``transport.py``): the ZeroMQ sockets, the route of the
  comm messages (the control channel, or a subshell) and request/reply;
- ``bootstrap.py``: which kernels can have background jobs, and loading the
  kernel extension where it is missing;
- ``EventsSubscription`` (``subscription.py``): the events comm, its ``seq``
  and resyncs, which keep the store in step with the kernel;
- ``ControlClient`` (``control_client.py``): the control comm's requests.

Attaching (``docs/architecture.md``): connect; ``kernel_info`` (other languages
are ``unavailable``); on ipykernel 7+, wait for the IOPub welcome (a comm's
first message published before the subscription is live would be lost);
open the events comm, loading the extension first if the kernel has no such
target; open the control comm; close the comms of an earlier relay that lost
its connection; ``ready``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from .bootstrap import language_problem, load_kernel_extension
from .control_client import REQUEST_TIMEOUT, ControlClient
from .errors import Conflict, Unavailable
from .kill_batch import KillBatcher
from .subscription import EventsSubscription
from .transport import ROUTES, KernelTransport

if TYPE_CHECKING:
    from .store import JobStore

# ipykernel 7 answers each new IOPub subscription with an `iopub_welcome`.
# Kernels that advertise subshells (ipykernel 7+) are waited for this long
# before the first comm opens; the snapshot retries cover the others. Now and
# then (about 1 start in 40 on a loaded machine) no welcome is read at all: a
# longer wait (it was 2 s) only delays `ready`, and the retries of a missing
# snapshot (0.2 s, 0.4 s, ...) make up for a subscription that was late.
WELCOME_TIMEOUT = 0.5


class KernelRelay:
    """Attaches to one kernel: opens the comms, feeds the store, relays commands."""

    def __init__(
        self,
        kernel_id: str,
        kernel_manager: Any,
        store: JobStore,
        *,
        load_extension: bool = True,
        route: str = "control",
        log: logging.Logger | None = None,
        stale_comms: tuple[str, ...] = (),
        load_first: bool = False,
    ) -> None:
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, not {route!r}")
        self.kernel_id = kernel_id
        self.state = "connecting"  # then "ready" or "unavailable"
        self.reason = ""
        self._load_extension = load_extension
        # A kernel the server has just started: load the extension before
        # anything else, so that even a notebook's first cell finds `jobs`
        # and the magics (the package installs no kernel config that would
        # load them at start). A kernel that had a relay has the extension.
        self._load_first = load_first and load_extension and _spec_language(kernel_manager) == "python"
        self._log = log or logging.getLogger(__name__)
        # Comms of an earlier relay that lost its connection: the kernel still
        # serves them (and pushes every change on them) until they are closed.
        self._stale_comms = stale_comms
        self.transport = KernelTransport(kernel_id, kernel_manager.get_connection_info(), route=route, log=self._log)
        self.events = EventsSubscription(
            kernel_id,
            self.transport,
            store,
            on_gone=self._unavailable,
            on_reopened=lambda: self._note_reopened("events"),
            log=self._log,
        )
        self.control = ControlClient(kernel_id, self.transport, on_closed=self._on_control_closed, log=self._log)
        self._kills = KillBatcher(self.request)
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Future[Any]] = []

    @property
    def route(self) -> str:
        """Where the comm messages go: "control" or "subshell"."""
        return self.transport.route

    @property
    def iopub_messages(self) -> int:
        """What reached this process from the kernel's IOPub."""
        return self.transport.iopub_messages

    # --- life cycle -----------------------------------------------------------

    def start(self) -> None:
        self._tasks.append(asyncio.ensure_future(self._attach()))

    async def wait_ready(self, timeout: float) -> bool:
        """Wait until the relay is ready (or unavailable); True if ready."""
        if self.state == "connecting":
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        return self.state == "ready"

    @property
    def comm_ids(self) -> tuple[str, ...]:
        """The ids of the comms this relay opened in the kernel."""
        return tuple(comm_id for comm_id in (self.events.comm_id, self.control.comm_id) if comm_id)

    @property
    def connection_lost(self) -> bool:
        """The relay's channels to the kernel stopped under it (a socket closed, a reader ended).

        Nothing reaches the relay any more, and nothing it sends reaches the
        kernel: the hub attaches a new relay.
        """
        return self.transport.connection_lost

    async def stop(self, close_comms: bool = True) -> None:
        """Detach; ``close_comms`` tells the kernel (skip it when the kernel is gone)."""
        if close_comms and not self.connection_lost:
            for comm_id in self.comm_ids:
                self.transport.send_comm("comm_close", {"comm_id": comm_id, "data": {}})
            self.transport.leave_route()
        self.events.stop()
        for task in self._tasks:
            task.cancel()
        detached = f"the relay to kernel {self.kernel_id} was detached"
        self.control.fail_pending(detached)
        self.transport.stop(detached)
        if self.state == "ready":
            self.state = "connecting"
        self._ready.set()  # nobody waits for a relay that stopped

    async def _attach(self) -> None:
        try:
            await self._connect()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # whatever the kernel did, the server goes on
            self._log.warning("bgjobs: cannot attach to kernel %s: %s", self.kernel_id, error)
            self._unavailable(f"cannot attach: {error}")
        finally:
            self._ready.set()

    def _unavailable(self, reason: str) -> None:
        self.state = "unavailable"
        self.reason = reason
        self._log.info("bgjobs: kernel %s: background jobs unavailable: %s", self.kernel_id, reason)

    async def _connect(self) -> None:
        transport = self.transport
        loop = asyncio.get_running_loop()
        began = loop.time()
        transport.start(self._on_iopub)
        preload = asyncio.ensure_future(load_kernel_extension(transport)) if self._load_first else None
        if preload is not None:
            self._tasks.append(preload)
        info = await transport.kernel_info()
        self._log.debug("bgjobs: kernel %s answered kernel_info after %.3f s", self.kernel_id, loop.time() - began)
        problem = language_problem(info)
        if not problem and preload is not None:
            problem = await preload
        if problem:
            self._unavailable(problem)
            return
        await transport.enter_route(info)
        # ipykernel 7+ (the kernels with subshells) welcomes each new IOPub subscription.
        welcomes = "kernel subshells" in info.get("supported_features", [])
        if welcomes and not await transport.wait_iopub_live(WELCOME_TIMEOUT):
            self._log.info("bgjobs: kernel %s sent no iopub_welcome; opening the comms anyway", self.kernel_id)

        if not await self.events.open():
            if not self._load_extension:
                self._unavailable("jupyter_bgjobs is not loaded in this kernel (and loading it is turned off)")
                return
            problem = await load_kernel_extension(transport)
            if problem:
                self._unavailable(problem)
                return
            self._log.info("bgjobs: loaded the kernel extension into kernel %s", self.kernel_id)
            if not await self.events.open():
                self._unavailable("jupyter_bgjobs is loaded in this kernel but its endpoint does not answer")
                return
        self.control.open()
        for comm_id in self._stale_comms:
            transport.send_comm("comm_close", {"comm_id": comm_id, "data": {}})
        self.state = "ready"
        self._ready.set()
        self._log.info(
            "bgjobs: attached to kernel %s over its %s in %.2f s", self.kernel_id, self.route, loop.time() - began
        )

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        msg_type = msg["header"]["msg_type"]
        content = msg.get("content", {})
        comm_id = content.get("comm_id")
        if not comm_id:
            return
        if comm_id == self.events.comm_id:
            self.events.handle(msg_type, content)
        elif comm_id == self.control.comm_id:
            self.control.handle(msg_type, content)

    def _on_control_closed(self) -> None:
        # Code in the kernel can close any comm (a loop over the comm
        # manager's comms, a clean-up helper): open another, and say so.
        self._log.warning("bgjobs: kernel %s closed the control comm; opening another", self.kernel_id)
        if self.state == "ready" and self.transport.is_open:
            self.control.open()
            self._note_reopened("control")

    def _note_reopened(self, comm: str) -> None:
        self.reason = (
            f"the kernel closed the relay's {comm} comm at {time.strftime('%H:%M:%S')} "
            "(code running in the kernel can); another was opened"
        )

    # --- what the handlers ask ---------------------------------------------------

    def resync(self) -> None:
        """Ask the kernel for a fresh snapshot (again every few seconds until it comes)."""
        self.events.resync()

    async def request(self, op: str, **args: Any) -> dict[str, Any]:
        """Send a control request; the validated data of its reply, or a BgJobsError."""
        if not await self.wait_ready(REQUEST_TIMEOUT):
            because = f": {self.reason}" if self.reason else ""
            raise Conflict(f"background jobs are {self.state} in kernel {self.kernel_id}{because}")
        if self.connection_lost:
            raise Unavailable(f"the connection to kernel {self.kernel_id} was lost and is being made again; try again")
        return await self.control.request(op, **args)

    async def kill(self, uid: str) -> dict[str, Any] | None:
        """Kill one job, together with the other kills that come meanwhile (``kill_batch.py``).

        The job as the kernel answered (a kernel without ``kill_many``) or
        None; ``NotFound`` or ``Conflict`` as for a ``kill`` request.
        """
        return await self._kills.kill(uid)


def _spec_language(kernel_manager: Any) -> str:
    """The language of the kernel's kernelspec ("" if unknown), known before the kernel answers anything."""
    try:
        spec = kernel_manager.kernel_spec
    except Exception:  # no such spec any more: kernel_info decides
        return ""
    return str(getattr(spec, "language", "") or "").lower()
