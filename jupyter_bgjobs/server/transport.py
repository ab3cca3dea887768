"""``KernelTransport``: the ZeroMQ connection of one client of a kernel's jobs endpoint.

A kernel client with a ``Session`` of its own (ZeroMQ routes shell and control
replies by the socket identity, which jupyter_client takes from the session
id: a shared session would collide with other clients), and an IOPub socket
subscribed to one topic prefix only: every comm this transport opens has an
id under that prefix (ipykernel publishes a comm's messages under the topic
``comm-<comm_id>``), so the kernel's other output is dropped by ZeroMQ before
it reaches this process.

Where comm messages go (the *route*):

- ``control`` (default): the kernel's control channel, which jupyter_bgjobs
  serves in the kernel (``kernel/comm.py``) and which ipykernel answers from
  its own thread while the main shell runs a cell, on ipykernel 6 and 7;
- ``subshell``: a kernel subshell of its own, on kernels that support them
  (ipykernel 7); every message a subshell handles becomes the parent of the
  output of the user's plain threads on ipykernel 7.4, hence not the default;
- ``shell``: the main shell, as a notebook's own comms go (waits for the
  running cell): not offered by the server, used by the protocol tests.

The relay and the protocol tests (``tests/comm_client.py``) both use it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

import zmq
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.session import Session

from .. import protocol
from .errors import Unavailable

ROUTES = ("control", "subshell")  # what the server can be configured with
ALL_ROUTES = (*ROUTES, "shell")

KERNEL_INFO_TIMEOUT = 60.0  # a kernel that is still starting
# Kernels of other languages may not serve the control channel: the shell is
# asked too after this long.
SHELL_INFO_DELAY = 5.0
# ipykernel 6 drops a control request that comes before the kernel has
# started (its control lock does not exist yet): kernel_info is asked again
# after these delays (the last one repeats) until one is answered.
KERNEL_INFO_RETRIES = (0.1, 0.2, 0.4, 0.8)
# Measured with pyzmq 27 and jupyter_client 8.10: now and then a reply sits in
# a socket (its ZMQ_EVENTS say POLLIN) while the asyncio reader sleeps, until
# something else touches the socket. Reading ZMQ_EVENTS wakes the reader: it
# is done this often while a reply is awaited, and every KICK_IDLE s otherwise.
KICK_INTERVAL = 0.1
KICK_IDLE = 1.0

IopubHandler = Callable[[dict[str, Any]], None]
# The readers of every kernel together use at most about this long of one
# event-loop iteration before they let the rest of the server run.
READ_SLICE = 0.010


class ReadTurns:
    """Shares the event loop among the readers of all kernels.

    After each message a reader asks for its next turn. While the readers'
    work in the current loop iteration is under ``READ_SLICE``, it goes on at
    once; past it, the reader waits for the next iteration, so that a burst
    from 50 kernels does not hold the loop for 50 messages in one iteration
    (``bench/bench_loop_stall.py``). The slice begins with the first message
    handled in an iteration and ends with a callback scheduled then, which
    runs at the start of the next iteration.
    """

    def __init__(self, slice_seconds: float = READ_SLICE) -> None:
        self._slice = slice_seconds
        self._began: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # whose iteration the slice is

    async def next_turn(self) -> None:
        """Return when a reader may handle its next message (at once, or in a later loop iteration)."""
        loop = asyncio.get_running_loop()
        while True:
            began = self._began
            if began is None or self._loop is not loop:  # (a slice of a loop that has ended: a new one)
                self._began, self._loop = loop.time(), loop
                loop.call_soon(self._end_slice, loop)
                return
            if loop.time() - began <= self._slice:
                return
            await asyncio.sleep(0)

    def _end_slice(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is loop:
            self._began = None


READ_TURNS = ReadTurns()


class KernelTransport:
    """The sockets, the comm route and the request/reply plumbing to one kernel."""

    def __init__(
        self,
        kernel_id: str,
        connection_info: KernelConnectionInfo,
        *,
        route: str = "control",
        username: str = "jupyter_bgjobs",
        context: zmq.asyncio.Context | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        """``connection_info`` as ``get_connection_info()`` of a kernel manager or client gives it."""
        if route not in ALL_ROUTES:
            raise ValueError(f"route must be one of {ALL_ROUTES}, not {route!r}")
        self.kernel_id = kernel_id
        self.route = route
        self._log = log or logging.getLogger(__name__)
        options: dict[str, Any] = {"session": Session(username=username)}
        if context is not None:
            options["context"] = context
        self.client = AsyncKernelClient(**options)
        self.client.load_connection_info(connection_info)
        self.subshell_id: str | None = None
        # Every comm of this transport has an id with this prefix: one IOPub
        # subscription, made before the first comm opens, covers them all.
        self.comm_prefix = f"bgjobs-{uuid.uuid4().hex[:16]}-"
        self._comm_count = 0
        self._replies: dict[str, asyncio.Future[Any]] = {}  # shell/control msg_id -> reply
        self._tasks: list[asyncio.Future[Any]] = []
        self._readers: list[asyncio.Future[Any]] = []
        self._iopub_live = asyncio.Event()  # set by the kernel's iopub_welcome
        self._started = False
        self.iopub_messages = 0  # what reached this process from the kernel's IOPub

    # --- life cycle -----------------------------------------------------------

    def start(self, on_iopub: IopubHandler) -> None:
        """Connect and start reading; ``on_iopub`` gets every comm message of this transport."""
        client = self.client
        client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        socket = client.iopub_channel.socket
        socket.setsockopt(zmq.UNSUBSCRIBE, b"")
        socket.setsockopt(zmq.SUBSCRIBE, self.topic.encode())
        self._started = True

        def on_message(msg: dict[str, Any]) -> None:
            self.iopub_messages += 1
            if msg["header"]["msg_type"] == "iopub_welcome":
                if msg.get("content", {}).get("subscription") == self.topic:
                    self._iopub_live.set()
                return
            on_iopub(msg)

        for channel, handler in (
            (client.shell_channel, self._on_reply),
            (client.control_channel, self._on_reply),
            (client.iopub_channel, on_message),
        ):
            self._readers.append(asyncio.ensure_future(self._read(channel, handler)))
        self._tasks.extend(self._readers)
        self._tasks.append(asyncio.ensure_future(self._kick_forever()))

    @property
    def topic(self) -> str:
        """The IOPub topic prefix of this transport's comms."""
        return f"comm-{self.comm_prefix}"

    @property
    def is_open(self) -> bool:
        """Started, not stopped, and its channels still run."""
        return self._started and not self.connection_lost

    @property
    def connection_lost(self) -> bool:
        """The channels stopped under the transport (a socket closed, a reader ended)."""
        return self._started and any(reader.done() for reader in self._readers)

    def stop(self, reason: str = "") -> None:
        """Close the sockets; pending calls fail with ``Unavailable(reason)``."""
        for task in self._tasks:
            task.cancel()
        for future in self._replies.values():
            if not future.done():
                future.set_exception(Unavailable(reason or f"the connection to kernel {self.kernel_id} was closed"))
        if self._started:
            self.client.stop_channels()
            self._started = False

    # --- opening ---------------------------------------------------------------

    async def kernel_info(self) -> dict[str, Any]:
        """The kernel's ``kernel_info_reply`` content (``Unavailable`` if it never answers).

        The control channel answers while the main shell runs a cell; it is
        asked again and again (a starting ipykernel 6 drops what comes too
        early). After ``SHELL_INFO_DELAY`` the shell is asked too, not at once:
        on ipykernel 7 every shell message becomes the parent of the output
        of the user's plain threads.
        """
        loop = asyncio.get_running_loop()
        began = loop.time()
        calls: list[asyncio.Future[dict[str, Any]]] = []
        shell: asyncio.Future[dict[str, Any]] | None = None
        retries = iter(KERNEL_INFO_RETRIES)
        delay = 0.0
        try:
            while (elapsed := loop.time() - began) < KERNEL_INFO_TIMEOUT:
                calls.append(asyncio.ensure_future(self.call("control", "kernel_info_request", {}, None)))
                if shell is None and elapsed >= SHELL_INFO_DELAY:
                    shell = asyncio.ensure_future(self.call("shell", "kernel_info_request", {}, None))
                    calls.append(shell)
                delay = next(retries, delay)
                done, _ = await asyncio.wait(
                    calls, timeout=min(delay, KERNEL_INFO_TIMEOUT - elapsed), return_when=asyncio.FIRST_COMPLETED
                )
                if done:
                    return dict(done.pop().result())
            raise Unavailable(f"kernel {self.kernel_id} did not answer kernel_info within {KERNEL_INFO_TIMEOUT:.0f} s")
        finally:
            for call in calls:
                call.cancel()

    async def wait_iopub_live(self, timeout: float) -> bool:
        """Wait for the kernel's ``iopub_welcome`` to this subscription (ipykernel 7+); True if it came.

        Until the subscription reaches the kernel, what it publishes on this
        transport's comms is lost (ZeroMQ's slow joiner).
        """
        try:
            await asyncio.wait_for(self._iopub_live.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def enter_route(self, kernel_info: dict[str, Any]) -> None:
        """Make the route usable: a subshell of its own, or the control route where there are none."""
        if self.route != "subshell":
            return
        if "kernel subshells" in kernel_info.get("supported_features", []):
            reply = await self.call("control", "create_subshell_request", {}, 10.0)
            self.subshell_id = reply.get("subshell_id")
        else:
            self.route = "control"

    def leave_route(self) -> None:
        """Delete the subshell, if there is one."""
        if self.subshell_id is not None and self._started:
            self._send("control", "delete_subshell_request", {"subshell_id": self.subshell_id})
            self.subshell_id = None

    # --- messages --------------------------------------------------------------

    def new_comm_id(self) -> str:
        """A comm id under this transport's subscription."""
        self._comm_count += 1
        return f"{self.comm_prefix}{self._comm_count}"

    def send_comm(self, msg_type: str, content: dict[str, Any]) -> None:
        """A ``comm_open``, ``comm_msg`` or ``comm_close`` on the route."""
        if self.route == "control":
            self._send("control", protocol.CONTROL_CHANNEL_TYPES[msg_type], content)
        else:
            self._send("shell", msg_type, content, subshell=True)

    def _channel(self, name: str) -> Any:
        return self.client.control_channel if name == "control" else self.client.shell_channel

    def _send(self, channel: str, msg_type: str, content: dict[str, Any], subshell: bool = False) -> str:
        msg = self.client.session.msg(msg_type, content)
        if subshell and self.subshell_id is not None:
            msg["header"]["subshell_id"] = self.subshell_id
        self._channel(channel).send(msg)
        return str(msg["header"]["msg_id"])

    async def call(self, channel: str, msg_type: str, content: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        """Send a request on ``channel`` ("shell" or "control"); its reply's content."""
        msg = self.client.session.msg(msg_type, content)
        msg_id = msg["header"]["msg_id"]
        future = self._replies[msg_id] = asyncio.get_running_loop().create_future()
        self._channel(channel).send(msg)
        try:
            reply = await self.wait(future, timeout)
        except asyncio.TimeoutError:
            raise Unavailable(f"kernel {self.kernel_id} did not answer {msg_type} within {timeout:.0f} s") from None
        finally:
            self._replies.pop(msg_id, None)
        return dict(reply["content"])

    async def wait(self, future: asyncio.Future[Any], timeout: float | None) -> Any:
        """``future``'s result, waking the readers while it is awaited; TimeoutError after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            step = KICK_INTERVAL if deadline is None else min(KICK_INTERVAL, deadline - loop.time())
            if step <= 0:
                raise asyncio.TimeoutError
            try:
                return await asyncio.wait_for(asyncio.shield(future), step)
            except asyncio.TimeoutError:
                self.kick()

    def kick(self) -> None:
        """Wake the readers of messages that arrived unnoticed (see ``KICK_INTERVAL``)."""
        if not self._started:
            return
        for channel in (self.client.shell_channel, self.client.control_channel, self.client.iopub_channel):
            socket = channel.socket
            if socket is not None and not socket.closed:
                socket.get(zmq.EVENTS)  # pyzmq's asyncio socket then handles what is pending

    async def _kick_forever(self) -> None:
        while True:
            await asyncio.sleep(KICK_IDLE)
            self.kick()

    async def _read(self, channel: Any, handler: IopubHandler) -> None:
        while channel.is_alive():
            try:
                msg = await channel.get_msg()
            except asyncio.CancelledError:
                raise
            except Exception:  # a message that does not deserialize; a closed socket ends the loop
                if channel.is_alive():
                    self._log.exception("bgjobs: unreadable message from kernel %s", self.kernel_id)
                continue
            # pyzmq hands out a message already received without going back to
            # the loop: a backlog of updates (100 jobs each) from many kernels
            # would be applied in one loop iteration, holding every other request.
            await READ_TURNS.next_turn()
            try:
                handler(msg)
            except Exception:  # one bad message must not stop the relay
                self._log.exception("bgjobs: bad message from kernel %s", self.kernel_id)

    def _on_reply(self, msg: dict[str, Any]) -> None:
        future = self._replies.get(msg.get("parent_header", {}).get("msg_id"))
        if future is not None and not future.done():
            future.set_result(msg)
