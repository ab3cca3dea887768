"""``KernelRelay``: the server's connection to the bgjobs endpoint of one kernel.

It speaks the protocol of ``protocol.py`` over its own kernel client: its own
shell and control sockets (which see only the replies to its requests) and an
IOPub socket subscribed to nothing but its two comms' topics, so the kernel's
output traffic is filtered out by ZeroMQ before it reaches this process.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

import zmq
from jupyter_client.session import Session

from .. import protocol
from ..protocol import ProtocolError

if TYPE_CHECKING:
    from .store import JobStore

# Code run (silently) in a Python kernel whose events comm has no target: the
# kernel extension was not loaded there. Idempotent; prints nothing.
LOAD_EXTENSION_CODE = "__import__('jupyter_bgjobs').load_ipython_extension(get_ipython())"

REQUEST_TIMEOUT = 10.0
KERNEL_INFO_TIMEOUT = 60.0


class RelayError(Exception):
    """A request to a kernel's bgjobs endpoint failed."""

    def __init__(self, message: str, code: str = "unavailable") -> None:
        super().__init__(message)
        self.code = code


class KernelRelay:
    """Attaches to one kernel: opens the comms, feeds the store, relays commands."""

    def __init__(
        self, kernel_id: str, kernel_manager: Any, store: JobStore, *, load_extension: bool, log: logging.Logger
    ):
        self.kernel_id = kernel_id
        self.state = "connecting"  # then "ready" or "unavailable"
        self.reason = ""
        self._km = kernel_manager
        self._store = store
        self._load_extension = load_extension
        self._log = log
        self._client: Any = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._replies: dict[str, asyncio.Future[Any]] = {}  # shell/control msg_id -> reply
        self._requests: dict[str, asyncio.Future[Any]] = {}  # control req_id -> reply data
        self._subshell_id: str | None = None
        self._events_id = ""
        self._control_id = uuid.uuid4().hex
        self._events_opened: asyncio.Future[bool] | None = None
        self._seq: int | None = None

    # --- life cycle -----------------------------------------------------------

    def start(self) -> None:
        self._tasks.append(asyncio.ensure_future(self._attach()))

    async def stop(self, close_comms: bool = True) -> None:
        """Detach; ``close_comms`` tells the kernel (skip it when the kernel is gone)."""
        if self._client is not None and close_comms and self.state == "ready":
            for comm_id in (self._events_id, self._control_id):
                self._send_shell("comm_close", {"comm_id": comm_id, "data": {}})
        for task in self._tasks:
            task.cancel()
        for future in [*self._replies.values(), *self._requests.values()]:
            if not future.done():
                future.set_exception(RelayError("the relay was detached from the kernel"))
        if self._client is not None:
            self._client.stop_channels()
            self._client = None
        if self.state != "unavailable":
            self.state = "connecting"

    async def _attach(self) -> None:
        try:
            await self._connect()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._log.warning("bgjobs: cannot attach to kernel %s: %s", self.kernel_id, error)
            self._unavailable(f"cannot attach: {error}")

    def _unavailable(self, reason: str) -> None:
        self.state = "unavailable"
        self.reason = reason

    async def _connect(self) -> None:
        # A session of its own: ZeroMQ routes shell replies by the socket
        # identity, which jupyter_client takes from the session id; sharing
        # the kernel manager's session would collide with other clients.
        session = Session(
            key=self._km.session.key, signature_scheme=self._km.session.signature_scheme, username="jupyter_bgjobs"
        )
        client = self._client = self._km.client(session=session)
        client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        self._listen_only_to_own_comms()
        for channel, handler in (
            (client.shell_channel, self._on_reply),
            (client.control_channel, self._on_reply),
            (client.iopub_channel, self._on_iopub),
        ):
            self._tasks.append(asyncio.ensure_future(self._read(channel, handler)))

        info = await self._call(client.shell_channel, "kernel_info_request", {}, KERNEL_INFO_TIMEOUT)
        language = info.get("language_info", {}).get("name", "")
        if language != "python":
            self._unavailable(f"background jobs need an IPython kernel, not {language or 'an unknown language'}")
            return
        if "kernel subshells" in info.get("supported_features", []):
            # Comms on a subshell are served while the main shell runs a cell.
            reply = await self._call(client.control_channel, "create_subshell_request", {}, REQUEST_TIMEOUT)
            self._subshell_id = reply.get("subshell_id")

        opened = await self._open_events()
        if not opened and self._load_extension:
            reply = await self._execute(LOAD_EXTENSION_CODE)
            if reply.get("status") != "ok":
                self._unavailable(
                    f"jupyter_bgjobs cannot load in this kernel: {reply.get('ename')}: {reply.get('evalue')}"
                )
                return
            opened = await self._open_events()
        if not opened:
            self._unavailable("the kernel has no jupyter_bgjobs endpoint")
            return
        self._send_shell(
            "comm_open",
            {"comm_id": self._control_id, "target_name": protocol.CONTROL_TARGET, "data": {"v": protocol.VERSION}},
        )
        self.state = "ready"

    def _listen_only_to_own_comms(self) -> None:
        socket = self._client.iopub_channel.socket
        socket.setsockopt(zmq.UNSUBSCRIBE, b"")
        self._events_id = uuid.uuid4().hex
        for comm_id in (self._events_id, self._control_id):
            # ipykernel publishes a comm's messages under the topic "comm-<id>".
            socket.setsockopt(zmq.SUBSCRIBE, f"comm-{comm_id}".encode())

    async def _open_events(self) -> bool:
        """Open the events comm; True once its snapshot came, False if the kernel closed it."""
        if self._events_opened is not None and not self._events_opened.done():
            self._events_opened.cancel()
        socket = self._client.iopub_channel.socket
        socket.setsockopt(zmq.UNSUBSCRIBE, f"comm-{self._events_id}".encode())
        self._events_id = uuid.uuid4().hex  # a fresh comm for each try
        socket.setsockopt(zmq.SUBSCRIBE, f"comm-{self._events_id}".encode())
        self._events_opened = asyncio.get_running_loop().create_future()
        self._send_shell(
            "comm_open",
            {"comm_id": self._events_id, "target_name": protocol.EVENTS_TARGET, "data": {"v": protocol.VERSION}},
        )
        return await self._events_opened

    # --- messages -------------------------------------------------------------

    def _send_shell(self, msg_type: str, content: dict[str, Any]) -> str:
        msg = self._client.session.msg(msg_type, content)
        if self._subshell_id is not None:
            msg["header"]["subshell_id"] = self._subshell_id
        self._client.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    async def _call(self, channel: Any, msg_type: str, content: dict[str, Any], timeout: float) -> dict[str, Any]:
        msg = self._client.session.msg(msg_type, content)
        future = self._replies[msg["header"]["msg_id"]] = asyncio.get_running_loop().create_future()
        channel.send(msg)
        try:
            reply = await asyncio.wait_for(future, timeout)
        finally:
            self._replies.pop(msg["header"]["msg_id"], None)
        return dict(reply["content"])

    async def _execute(self, code: str) -> dict[str, Any]:
        content = {"code": code, "silent": True, "store_history": False, "allow_stdin": False, "stop_on_error": False}
        msg = self._client.session.msg("execute_request", content)
        if self._subshell_id is not None:
            msg["header"]["subshell_id"] = self._subshell_id
        future = self._replies[msg["header"]["msg_id"]] = asyncio.get_running_loop().create_future()
        self._client.shell_channel.send(msg)
        reply = await future
        return dict(reply["content"])

    async def _read(self, channel: Any, handler: Any) -> None:
        while True:
            msg = await channel.get_msg()
            try:
                handler(msg)
            except Exception:  # one bad message must not stop the relay
                self._log.exception("bgjobs: bad message from kernel %s", self.kernel_id)

    def _on_reply(self, msg: dict[str, Any]) -> None:
        future = self._replies.get(msg.get("parent_header", {}).get("msg_id"))
        if future is not None and not future.done():
            future.set_result(msg)

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        msg_type = msg["header"]["msg_type"]
        content = msg.get("content", {})
        comm_id = content.get("comm_id")
        if msg_type == "comm_close" and comm_id == self._events_id:
            if self._events_opened is not None and not self._events_opened.done():
                self._events_opened.set_result(False)
            return
        if msg_type != "comm_msg":
            return
        if comm_id == self._events_id:
            self._on_push(content.get("data"))
        elif comm_id == self._control_id:
            self._on_control_reply(content.get("data"))

    def _on_push(self, data: Any) -> None:
        try:
            push = protocol.parse_push(data)
        except ProtocolError as error:
            self._log.warning("bgjobs: kernel %s sent a bad push (%s); asking for a snapshot", self.kernel_id, error)
            self._resync()
            return
        if push["type"] == "snapshot":
            self._store.apply_snapshot(self.kernel_id, push["jobs"])
            if self._events_opened is not None and not self._events_opened.done():
                self._events_opened.set_result(True)
        elif self._seq is None or push["seq"] != self._seq + 1:
            self._log.info(
                "bgjobs: kernel %s: gap in updates (%s after %s); resyncing", self.kernel_id, push["seq"], self._seq
            )
            self._resync()
            return
        else:
            self._store.apply_update(self.kernel_id, push["jobs"], push["removed"])
        self._seq = push["seq"]

    def _resync(self) -> None:
        self._send_shell("comm_msg", {"comm_id": self._events_id, "data": protocol.resync_request()})

    def _on_control_reply(self, data: Any) -> None:
        req_id = protocol.request_id_of(data)
        future = self._requests.get(req_id) if req_id else None
        if future is not None and not future.done():
            future.set_result(data)

    # --- commands -------------------------------------------------------------

    async def request(self, op: str, **args: Any) -> dict[str, Any]:
        """Send a control request; the reply's data, or RelayError."""
        if self.state != "ready":
            raise RelayError(f"background jobs are {self.state} in kernel {self.kernel_id}")
        req_id = uuid.uuid4().hex
        future = self._requests[req_id] = asyncio.get_running_loop().create_future()
        self._send_shell("comm_msg", {"comm_id": self._control_id, "data": protocol.request(op, req_id, **args)})
        try:
            reply = await asyncio.wait_for(future, REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            raise RelayError(
                f"kernel {self.kernel_id} did not answer {op} within {REQUEST_TIMEOUT:.0f} s", "timeout"
            ) from None
        finally:
            self._requests.pop(req_id, None)
        if not isinstance(reply, dict) or not reply.get("ok"):
            error = reply.get("error", {}) if isinstance(reply, dict) else {}
            raise RelayError(str(error.get("message", "bad reply")), str(error.get("code", "internal")))
        return reply
