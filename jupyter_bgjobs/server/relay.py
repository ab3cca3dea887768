"""``KernelRelay``: the server's connection to the jobs endpoint of one kernel.

It speaks the protocol of ``protocol.py`` over a kernel client of its own:
its own shell and control sockets (which see only the replies to its own
requests) and an IOPub socket subscribed to nothing but the topics of its
own comms, so the kernel's output traffic is dropped by ZeroMQ before it
reaches this process.

Where the relay sends its comm messages (the *route*):

- ``control`` (default): the kernel's control channel, which jupyter_bgjobs
  serves in the kernel (see ``kernel/comm.py``) and which ipykernel answers
  from its own thread while the main shell runs a cell, on ipykernel 6 and 7;
- ``subshell``: a kernel subshell of its own, on kernels that support them
  (ipykernel 7); the route of the design, kept as an option because on
  ipykernel 7.4 every message a subshell handles becomes the parent of the
  output of the user's plain threads (their prints leave the cell).

The kernel extension is loaded (by a silent ``execute_request`` on the main
shell) where it is missing and importable; kernels of other languages, or
whose environment lacks the package, are ``unavailable`` with a reason.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import zmq
from jupyter_client.session import Session

from .. import protocol
from ..protocol import ProtocolError
from .errors import BgJobsError, Conflict, NotFound, Unavailable

if TYPE_CHECKING:
    from .store import JobStore

ROUTES = ("control", "subshell")

# Evaluated (as a user expression, so that nothing is printed and a failure
# is only reported to the relay) in a Python kernel without the endpoint.
LOAD_EXPRESSION = "__import__('jupyter_bgjobs').load_ipython_extension(get_ipython())"

KERNEL_INFO_TIMEOUT = 60.0  # a kernel that is still starting
SHELL_INFO_DELAY = 5.0
REQUEST_TIMEOUT = 10.0
SNAPSHOT_TIMEOUT = 10.0
RESYNC_RETRY = 5.0

# What a kernel's error reply means for the client of the REST API.
_REPLY_ERRORS: dict[str, Callable[[str], BgJobsError]] = {"not_found": NotFound, "conflict": Conflict}


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
        self.route = route
        self._km = kernel_manager
        self._store = store
        self._load_extension = load_extension
        self._load_first = load_first
        self._log = log or logging.getLogger(__name__)
        # Comms of an earlier relay that lost its connection: the kernel still
        # serves them (and pushes every change on them) until they are closed.
        self._stale_comms = stale_comms
        self._client: Any = None
        self._tasks: list[asyncio.Future[Any]] = []
        self._readers: list[asyncio.Future[Any]] = []  # one per channel, for as long as the relay is attached
        self._replies: dict[str, asyncio.Future[Any]] = {}  # shell/control msg_id -> reply
        self._requests: dict[str, asyncio.Future[Any]] = {}  # control req_id -> reply data
        self._ready = asyncio.Event()
        self._subshell_id: str | None = None
        # Every comm of this relay has an id with this prefix: one IOPub
        # subscription, made before the first comm opens, covers them all.
        self._comm_prefix = f"bgjobs-{uuid.uuid4().hex[:16]}-"
        self._comm_count = 0
        self._events_id = ""
        self._control_id = ""
        self._events_opened: asyncio.Future[bool] | None = None
        self._seq: int | None = None
        self._resync_timer: asyncio.TimerHandle | None = None
        self.iopub_messages = 0  # what reached this process from the kernel's IOPub

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
        return tuple(comm_id for comm_id in (self._events_id, self._control_id) if comm_id)

    @property
    def connection_lost(self) -> bool:
        """The relay's channels to the kernel stopped under it (a socket closed, a reader ended).

        Nothing reaches the relay any more, and nothing it sends reaches the
        kernel: the hub attaches a new relay.
        """
        return self._client is not None and any(reader.done() for reader in self._readers)

    async def stop(self, close_comms: bool = True) -> None:
        """Detach; ``close_comms`` tells the kernel (skip it when the kernel is gone)."""
        if self._client is not None and close_comms and not self.connection_lost:
            for comm_id in (self._events_id, self._control_id):
                if comm_id:
                    self._send_comm("comm_close", {"comm_id": comm_id, "data": {}})
            if self._subshell_id is not None:
                self._send(self._client.control_channel, "delete_subshell_request", {"subshell_id": self._subshell_id})
        if self._resync_timer is not None:
            self._resync_timer.cancel()
        for task in self._tasks:
            task.cancel()
        for future in [*self._replies.values(), *self._requests.values()]:
            if not future.done():
                future.set_exception(Unavailable(f"the relay to kernel {self.kernel_id} was detached"))
        if self._client is not None:
            self._client.stop_channels()
            self._client = None
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
        # A session of its own: ZeroMQ routes shell and control replies by the
        # socket identity, which jupyter_client takes from the session id;
        # sharing the kernel manager's session would collide with other clients.
        session = Session(
            key=self._km.session.key, signature_scheme=self._km.session.signature_scheme, username="jupyter_bgjobs"
        )
        client = self._client = self._km.client(session=session)
        client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        socket = client.iopub_channel.socket
        socket.setsockopt(zmq.UNSUBSCRIBE, b"")
        # ipykernel publishes a comm's messages under the topic "comm-<comm_id>".
        socket.setsockopt(zmq.SUBSCRIBE, f"comm-{self._comm_prefix}".encode())
        for channel, handler in (
            (client.shell_channel, self._on_reply),
            (client.control_channel, self._on_reply),
            (client.iopub_channel, self._on_iopub),
        ):
            self._readers.append(asyncio.ensure_future(self._read(channel, handler)))
        self._tasks.extend(self._readers)
        preload = None
        if self._load_first and self._load_extension and self._spec_language() == "python":
            # A kernel this server has just started: the load is the first
            # message its main shell gets, so even the user's first cell finds
            # `jobs` and the magics (the package installs no kernel config that
            # would load it at start), and the control channel never sees a
            # comm_open of ours before the extension serves it.
            preload = asyncio.ensure_future(self._load())
            self._tasks.append(preload)

        info = await self._kernel_info()
        language = info.get("language_info", {}).get("name", "")
        if language != "python":
            self._unavailable(f"background jobs need an IPython kernel, not {language or 'an unknown language'}")
            return
        if preload is not None:
            problem = await preload
            if problem:
                self._unavailable(problem)
                return
        if self.route == "subshell":
            if "kernel subshells" in info.get("supported_features", []):
                reply = await self._call(client.control_channel, "create_subshell_request", {}, REQUEST_TIMEOUT)
                self._subshell_id = reply.get("subshell_id")
            else:
                self.route = "control"

        if not await self._open_events():
            if not self._load_extension:
                self._unavailable("jupyter_bgjobs is not loaded in this kernel (and loading it is turned off)")
                return
            problem = await self._load()
            if problem:
                self._unavailable(problem)
                return
            if not await self._open_events():
                self._unavailable("jupyter_bgjobs is loaded in this kernel but its endpoint does not answer")
                return
        self._control_id = self._new_comm_id()
        self._send_comm(
            "comm_open",
            {"comm_id": self._control_id, "target_name": protocol.CONTROL_TARGET, "data": protocol.open_data()},
        )
        for comm_id in self._stale_comms:
            self._send_comm("comm_close", {"comm_id": comm_id, "data": {}})
        self.state = "ready"
        self._ready.set()
        self._log.info("bgjobs: attached to kernel %s over its %s", self.kernel_id, self.route)

    def _spec_language(self) -> str:
        """The language of the kernel's kernelspec ("" if unknown), before the kernel answers anything."""
        try:
            spec = self._km.kernel_spec
        except Exception:  # no such spec any more: kernel_info decides
            return ""
        return str(getattr(spec, "language", "") or "").lower()

    async def _kernel_info(self) -> dict[str, Any]:
        # The control channel answers while the main shell runs a cell. Kernels
        # of other languages may not serve it: after a while, ask the shell too
        # (not at once: on ipykernel 7 every shell message becomes the parent
        # of the output of the user's plain threads).
        client = self._client
        calls = [asyncio.ensure_future(self._call(client.control_channel, "kernel_info_request", {}, None))]
        try:
            done, _ = await asyncio.wait(calls, timeout=SHELL_INFO_DELAY)
            if not done:
                calls.append(asyncio.ensure_future(self._call(client.shell_channel, "kernel_info_request", {}, None)))
                done, _ = await asyncio.wait(
                    calls, timeout=KERNEL_INFO_TIMEOUT - SHELL_INFO_DELAY, return_when=asyncio.FIRST_COMPLETED
                )
            if not done:
                raise Unavailable(f"kernel {self.kernel_id} did not answer kernel_info within {KERNEL_INFO_TIMEOUT} s")
            return done.pop().result()
        finally:
            for call in calls:
                call.cancel()

    def _new_comm_id(self) -> str:
        self._comm_count += 1
        return f"{self._comm_prefix}{self._comm_count}"

    async def _open_events(self) -> bool:
        """Open the events comm; True once its snapshot came, False if the kernel has no such target."""
        self._events_id = comm_id = self._new_comm_id()
        self._seq = None
        opened = self._events_opened = asyncio.get_running_loop().create_future()
        self._send_comm(
            "comm_open", {"comm_id": comm_id, "target_name": protocol.EVENTS_TARGET, "data": protocol.open_data()}
        )
        if self.route == "control":
            # An unknown message type on the control channel gets no answer:
            # ask which comms exist (the control thread serves in order).
            info = await self._call(
                self._client.control_channel,
                "comm_info_request",
                {"target_name": protocol.EVENTS_TARGET},
                REQUEST_TIMEOUT,
            )
            if comm_id not in info.get("comms", {}):
                return False
        for _ in range(2):
            try:
                return await asyncio.wait_for(asyncio.shield(opened), SNAPSHOT_TIMEOUT)
            except asyncio.TimeoutError:
                self._send_comm("comm_msg", {"comm_id": comm_id, "data": protocol.resync_request()})
        raise Unavailable(f"kernel {self.kernel_id} opened the events comm but sent no snapshot")

    async def _load(self) -> str:
        """Load the kernel extension; what went wrong ("" if nothing)."""
        reply = await self._call(
            self._client.shell_channel,
            "execute_request",
            {
                "code": "",
                "silent": True,
                "store_history": False,
                "user_expressions": {"bgjobs": LOAD_EXPRESSION},
                "allow_stdin": False,
                "stop_on_error": False,
            },
            None,
        )
        result = reply.get("user_expressions", {}).get("bgjobs", {})
        if reply.get("status") == "ok" and result.get("status") == "ok":
            self._log.info("bgjobs: loaded the kernel extension into kernel %s", self.kernel_id)
            return ""
        ename, evalue = result.get("ename", reply.get("ename", "")), result.get("evalue", reply.get("evalue", ""))
        if ename in ("ModuleNotFoundError", "ImportError"):
            return f"jupyter_bgjobs is not installed in this kernel's environment ({ename}: {evalue})"
        return f"jupyter_bgjobs cannot load in this kernel: {ename}: {evalue}"

    # --- messages -------------------------------------------------------------

    def _send(self, channel: Any, msg_type: str, content: dict[str, Any], subshell: bool = False) -> str:
        msg = self._client.session.msg(msg_type, content)
        if subshell and self._subshell_id is not None:
            msg["header"]["subshell_id"] = self._subshell_id
        channel.send(msg)
        return str(msg["header"]["msg_id"])

    def _send_comm(self, msg_type: str, content: dict[str, Any]) -> None:
        if self.route == "control":
            self._send(self._client.control_channel, protocol.CONTROL_CHANNEL_TYPES[msg_type], content)
        else:
            self._send(self._client.shell_channel, msg_type, content, subshell=True)

    async def _call(
        self, channel: Any, msg_type: str, content: dict[str, Any], timeout: float | None
    ) -> dict[str, Any]:
        msg = self._client.session.msg(msg_type, content)
        msg_id = msg["header"]["msg_id"]
        future = self._replies[msg_id] = asyncio.get_running_loop().create_future()
        channel.send(msg)
        try:
            reply = await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise Unavailable(f"kernel {self.kernel_id} did not answer {msg_type} within {timeout:.0f} s") from None
        finally:
            self._replies.pop(msg_id, None)
        return dict(reply["content"])

    async def _read(self, channel: Any, handler: Callable[[dict[str, Any]], None]) -> None:
        while channel.is_alive():
            try:
                msg = await channel.get_msg()
            except asyncio.CancelledError:
                raise
            except Exception:  # a message that does not deserialize; a closed socket ends the loop
                if channel.is_alive():
                    self._log.exception("bgjobs: unreadable message from kernel %s", self.kernel_id)
                continue
            try:
                handler(msg)
            except Exception:  # one bad message must not stop the relay
                self._log.exception("bgjobs: bad message from kernel %s", self.kernel_id)

    def _on_reply(self, msg: dict[str, Any]) -> None:
        future = self._replies.get(msg.get("parent_header", {}).get("msg_id"))
        if future is not None and not future.done():
            future.set_result(msg)

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        self.iopub_messages += 1
        msg_type = msg["header"]["msg_type"]
        content = msg.get("content", {})
        comm_id = content.get("comm_id")
        if msg_type == "comm_close" and comm_id == self._events_id:
            self._on_events_closed()
        elif msg_type == "comm_close" and comm_id == self._control_id:
            self._log.warning("bgjobs: kernel %s closed the control comm", self.kernel_id)
            self._unavailable("the kernel closed the control comm")
        elif msg_type == "comm_msg" and comm_id == self._events_id:
            self._on_push(content.get("data"))
        elif msg_type == "comm_msg" and comm_id == self._control_id:
            self._on_control_reply(content.get("data"))

    def _on_events_closed(self) -> None:
        opened = self._events_opened
        if opened is not None and not opened.done():
            opened.set_result(False)  # no such target: the extension is not loaded
        elif self.state == "ready":
            self._log.warning("bgjobs: kernel %s closed the events comm; opening another", self.kernel_id)
            self._tasks.append(asyncio.ensure_future(self._reopen_events()))

    async def _reopen_events(self) -> None:
        try:
            if not await self._open_events():
                self._unavailable("the kernel no longer has the jupyter_bgjobs endpoint")
        except BgJobsError as error:
            self._unavailable(error.message)

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
            if self._events_opened is not None and not self._events_opened.done():
                self._events_opened.set_result(True)
            return
        if self._seq is None or self._resync_timer is not None:
            return  # waiting for a snapshot: updates before it are in it
        if push["seq"] != self._seq + 1:
            self._log.info("bgjobs: kernel %s: update %s after %s; resyncing", self.kernel_id, push["seq"], self._seq)
            self.resync()
            return
        self._store.apply_update(self.kernel_id, push["jobs"], push["removed"])
        self._seq = push["seq"]

    def resync(self) -> None:
        """Ask the kernel for a fresh snapshot (again every few seconds until it comes)."""
        if self._client is None or not self._events_id:
            return
        if self._resync_timer is not None:
            self._resync_timer.cancel()
        self._send_comm("comm_msg", {"comm_id": self._events_id, "data": protocol.resync_request()})
        self._resync_timer = asyncio.get_running_loop().call_later(RESYNC_RETRY, self.resync)

    def _on_control_reply(self, data: Any) -> None:
        req_id = protocol.request_id_of(data)
        future = self._requests.get(req_id) if req_id else None
        if future is None:
            self._log.warning("bgjobs: kernel %s sent a control message for no request: %.200r", self.kernel_id, data)
        elif not future.done():
            future.set_result(data)

    # --- commands -------------------------------------------------------------

    async def request(self, op: str, **args: Any) -> dict[str, Any]:
        """Send a control request; the validated data of its reply, or a BgJobsError."""
        if not await self.wait_ready(REQUEST_TIMEOUT):
            because = f": {self.reason}" if self.reason else ""
            raise Conflict(f"background jobs are {self.state} in kernel {self.kernel_id}{because}")
        if self.connection_lost:
            raise Unavailable(f"the connection to kernel {self.kernel_id} was lost and is being made again; try again")
        req_id = uuid.uuid4().hex
        future = self._requests[req_id] = asyncio.get_running_loop().create_future()
        self._send_comm("comm_msg", {"comm_id": self._control_id, "data": protocol.request(op, req_id, **args)})
        try:
            data = await asyncio.wait_for(future, REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            raise Unavailable(
                f"kernel {self.kernel_id} did not answer {op} within {REQUEST_TIMEOUT:.0f} s; try again"
            ) from None
        finally:
            self._requests.pop(req_id, None)
        try:
            reply = protocol.parse_reply(data)
            if not reply["ok"]:
                error = reply["error"]
                make = _REPLY_ERRORS.get(error["code"])
                if make is not None:
                    raise make(error["message"])
                raise Unavailable(f"kernel {self.kernel_id} could not {op}: {error['code']}: {error['message']}")
            return protocol.reply_payload(op, reply)
        except ProtocolError as error:
            raise Unavailable(f"kernel {self.kernel_id} sent a malformed reply to {op}: {error}") from None
