"""``ControlClient``: the relay's control comm, on which each request gets one reply.

A request carries a ``req_id``; the kernel's reply (a ``comm_msg`` on the same
comm, read from IOPub) carries it back. A reply that is an error becomes the
``BgJobsError`` a REST client gets: ``not_found`` 404, ``conflict`` 409,
anything else (or no answer) 503; ``unknown_op`` (an operation that an older
kernel extension does not have) is ``UnknownOp``, for the caller to fall back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..protocol import ProtocolError
from .errors import BgJobsError, Conflict, NotFound, Unavailable
from .kill_batch import UnknownOp
from .transport import KernelTransport

REQUEST_TIMEOUT = 10.0

# What a kernel's error reply means for the client of the REST API.
_REPLY_ERRORS: dict[str, Callable[[str], BgJobsError]] = {"not_found": NotFound, "conflict": Conflict}


class ControlClient:
    """One kernel's control comm: requests out, replies matched back by ``req_id``."""

    def __init__(
        self,
        kernel_id: str,
        transport: KernelTransport,
        *,
        on_closed: Callable[[], None],
        log: logging.Logger | None = None,
    ) -> None:
        """``on_closed()`` is told when the kernel closes the comm."""
        self.kernel_id = kernel_id
        self.comm_id = ""
        self._transport = transport
        self._on_closed = on_closed
        self._log = log or logging.getLogger(__name__)
        self._requests: dict[str, asyncio.Future[Any]] = {}  # req_id -> reply data

    def open(self) -> None:
        """Open a control comm (a new one if one was open)."""
        self.comm_id = self._transport.new_comm_id()
        self._transport.send_comm(
            "comm_open",
            {"comm_id": self.comm_id, "target_name": protocol.CONTROL_TARGET, "data": protocol.open_data()},
        )

    def handle(self, msg_type: str, content: dict[str, Any]) -> None:
        """A ``comm_msg`` or ``comm_close`` of this client's comm."""
        if msg_type == "comm_msg":
            self._on_reply(content.get("data"))
        elif msg_type == "comm_close":
            self.fail_pending(f"kernel {self.kernel_id} closed the control comm; try again")
            self._on_closed()

    def fail_pending(self, reason: str) -> None:
        """Fail every request still waiting for its reply."""
        for future in self._requests.values():
            if not future.done():
                future.set_exception(Unavailable(reason))

    async def request(self, op: str, **args: Any) -> dict[str, Any]:
        """Send a request; the validated data of its reply, or a BgJobsError."""
        req_id = uuid.uuid4().hex
        future = self._requests[req_id] = asyncio.get_running_loop().create_future()
        self._transport.send_comm("comm_msg", {"comm_id": self.comm_id, "data": protocol.request(op, req_id, **args)})
        try:
            data = await self._transport.wait(future, REQUEST_TIMEOUT)
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
                if error["code"] == "unknown_op":
                    raise UnknownOp(error["message"])
                make = _REPLY_ERRORS.get(error["code"])
                if make is not None:
                    raise make(error["message"])
                raise Unavailable(f"kernel {self.kernel_id} could not {op}: {error['code']}: {error['message']}")
            return protocol.reply_payload(op, reply)
        except ProtocolError as error:
            raise Unavailable(f"kernel {self.kernel_id} sent a malformed reply to {op}: {error}") from None

    def _on_reply(self, data: Any) -> None:
        req_id = protocol.request_id_of(data)
        future = self._requests.get(req_id) if req_id else None
        if future is None:
            self._log.warning("bgjobs: kernel %s sent a control message for no request: %.200r", self.kernel_id, data)
        elif not future.done():
            future.set_result(data)
