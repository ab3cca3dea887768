"""``EventsSubscription``: the relay's events comm, which keeps the store in step with one kernel.

The kernel sends a ``snapshot`` when the comm opens and on request, then
numbered ``update``s (``protocol.py``). The subscription applies them to the
store in order; on a gap in ``seq`` or a push it cannot read, it asks for a
new snapshot (again every ``RESYNC_RETRY`` s until one comes) and drops
updates until then: a snapshot holds everything they said. If the kernel
closes the comm, another is opened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..protocol import ProtocolError
from .errors import BgJobsError, Unavailable
from .transport import KernelTransport

if TYPE_CHECKING:
    from .store import JobStore

REQUEST_TIMEOUT = 10.0
SNAPSHOT_TIMEOUT = 10.0
# The first snapshot is asked for again after these delays (the last one
# repeats, within SNAPSHOT_TIMEOUT): one published before the transport's
# IOPub subscription reached the kernel is lost, and an older kernel does not
# say when the subscription is live. An extra snapshot is harmless.
SNAPSHOT_RETRIES = (0.2, 0.4, 0.8, 1.6)
RESYNC_RETRY = 5.0


class EventsSubscription:
    """One kernel's events comm: opening it, its ``seq``, and resyncs."""

    def __init__(
        self,
        kernel_id: str,
        transport: KernelTransport,
        store: JobStore,
        *,
        on_gone: Callable[[str], None],
        on_reopened: Callable[[], None] = lambda: None,
        log: logging.Logger | None = None,
    ) -> None:
        """``on_gone(reason)``: a comm the kernel closed cannot be replaced; ``on_reopened()``: it was."""
        self.kernel_id = kernel_id
        self.comm_id = ""
        self._transport = transport
        self._store = store
        self._on_gone = on_gone
        self._on_reopened = on_reopened
        self._log = log or logging.getLogger(__name__)
        self._opened: asyncio.Future[bool] | None = None  # the snapshot of the comm being opened
        self._seq: int | None = None  # of the last push applied; None until a snapshot came
        self._resync_timer: asyncio.TimerHandle | None = None
        self._live = False  # a comm was open once: one the kernel closes is replaced
        self._tasks: set[asyncio.Future[Any]] = set()

    async def open(self) -> bool:
        """Open the events comm; True once its snapshot came, False if the kernel has no such target."""
        transport = self._transport
        self.comm_id = comm_id = transport.new_comm_id()
        self._seq = None
        opened = self._opened = asyncio.get_running_loop().create_future()
        transport.send_comm(
            "comm_open", {"comm_id": comm_id, "target_name": protocol.EVENTS_TARGET, "data": protocol.open_data()}
        )
        if transport.route == "control":
            # An unknown message type on the control channel gets no answer:
            # ask which comms exist (the control thread serves in order).
            info = await transport.call(
                "control", "comm_info_request", {"target_name": protocol.EVENTS_TARGET}, REQUEST_TIMEOUT
            )
            if comm_id not in info.get("comms", {}):
                return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SNAPSHOT_TIMEOUT
        retries = iter(SNAPSHOT_RETRIES)
        delay = 0.0
        while (remaining := deadline - loop.time()) > 0:
            delay = next(retries, delay)
            try:
                found = bool(await transport.wait(opened, min(delay, remaining)))
            except asyncio.TimeoutError:
                self._log.debug("bgjobs: kernel %s sent no snapshot within %.1f s; asking again", self.kernel_id, delay)
                transport.send_comm("comm_msg", {"comm_id": comm_id, "data": protocol.resync_request()})
                continue
            self._live = self._live or found
            return found
        raise Unavailable(f"kernel {self.kernel_id} opened the events comm but sent no snapshot")

    def handle(self, msg_type: str, content: dict[str, Any]) -> None:
        """A ``comm_msg`` or ``comm_close`` of this subscription's comm."""
        if msg_type == "comm_msg":
            self._on_push(content.get("data"))
        elif msg_type == "comm_close":
            self._on_closed()

    def resync(self) -> None:
        """Ask the kernel for a fresh snapshot (again every few seconds until it comes)."""
        if not self.comm_id or not self._transport.is_open:
            return
        if self._resync_timer is not None:
            self._resync_timer.cancel()
        self._transport.send_comm("comm_msg", {"comm_id": self.comm_id, "data": protocol.resync_request()})
        self._resync_timer = asyncio.get_running_loop().call_later(RESYNC_RETRY, self.resync)

    def stop(self) -> None:
        """Stop resyncing and reopening."""
        if self._resync_timer is not None:
            self._resync_timer.cancel()
            self._resync_timer = None
        for task in self._tasks:
            task.cancel()

    def _on_closed(self) -> None:
        opened = self._opened
        if opened is not None and not opened.done():
            opened.set_result(False)  # no such target: the extension is not loaded
        elif self._live:
            self._log.warning("bgjobs: kernel %s closed the events comm; opening another", self.kernel_id)
            task = asyncio.ensure_future(self._reopen())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reopen(self) -> None:
        try:
            if await self.open():
                self._on_reopened()
            else:
                self._on_gone("the kernel no longer has the jupyter_bgjobs endpoint")
        except BgJobsError as error:
            self._on_gone(error.message)

    def _on_push(self, data: Any) -> None:
        try:
            push = protocol.parse_push(data)
        except ProtocolError as error:
            self._log.warning("bgjobs: kernel %s sent a bad push (%s); asking for a snapshot", self.kernel_id, error)
            self.resync()
            return
        if push["type"] == "error":
            self._log.warning("bgjobs: kernel %s did not understand a message: %s", self.kernel_id, push["error"])
            return
        if push["type"] == "snapshot":
            self._store.apply_snapshot(self.kernel_id, push["jobs"])
            self._seq = push["seq"]
            if self._resync_timer is not None:
                self._resync_timer.cancel()
                self._resync_timer = None
            if self._opened is not None and not self._opened.done():
                self._opened.set_result(True)
            return
        if self._seq is None or self._resync_timer is not None:
            return  # waiting for a snapshot: updates before it are in it
        if push["seq"] != self._seq + 1:
            self._log.info("bgjobs: kernel %s: update %s after %s; resyncing", self.kernel_id, push["seq"], self._seq)
            self.resync()
            return
        self._store.apply_update(self.kernel_id, push["jobs"], push["removed"])
        self._seq = push["seq"]
