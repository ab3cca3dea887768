"""A bare protocol client of a kernel's jobs endpoint, for the protocol tests.

It is what the server's relay does, written plainly: a kernel client with a
session of its own, the comms opened on the control channel or on a kernel
subshell, and the comm messages read from IOPub.
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Callable
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.session import Session

from jupyter_bgjobs import protocol


class CommClient:
    """Opens comms to the jobs endpoint of one kernel and reads what comes back."""

    def __init__(self, kernel_client: BlockingKernelClient, route: str) -> None:
        info = kernel_client.get_connection_info(session=True)
        session = info["session"]
        self.client = BlockingKernelClient(
            session=Session(key=session.key, signature_scheme=session.signature_scheme, username="comm-client")
        )
        self.client.load_connection_info(info)
        self.client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        self.route = route
        self.subshell_id: str | None = None
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.closed: set[str] = set()
        if route == "subshell":
            self.subshell_id = self.call_control("create_subshell_request", {})["subshell_id"]

    def stop(self) -> None:
        self.client.stop_channels()

    def call_control(self, msg_type: str, content: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        msg = self.client.session.msg(msg_type, content)
        self.client.control_channel.send(msg)
        deadline = time.monotonic() + timeout
        while True:
            reply = self.client.control_channel.get_msg(timeout=max(0.01, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                return dict(reply["content"])

    def send(self, msg_type: str, content: dict[str, Any]) -> None:
        """A comm message on the route."""
        if self.route == "control":
            msg = self.client.session.msg(protocol.CONTROL_CHANNEL_TYPES[msg_type], content)
            self.client.control_channel.send(msg)
            return
        msg = self.client.session.msg(msg_type, content)
        if self.subshell_id is not None:
            msg["header"]["subshell_id"] = self.subshell_id
        self.client.shell_channel.send(msg)

    def open(self, target: str, data: Any = None) -> str:
        comm_id = uuid.uuid4().hex
        self.received[comm_id] = []
        self.send(
            "comm_open",
            {"comm_id": comm_id, "target_name": target, "data": protocol.open_data() if data is None else data},
        )
        return comm_id

    def message(self, comm_id: str, data: Any) -> None:
        self.send("comm_msg", {"comm_id": comm_id, "data": data})

    def _pump(self, timeout: float) -> None:
        try:
            msg = self.client.iopub_channel.get_msg(timeout=timeout)
        except queue.Empty:
            return
        content = msg["content"]
        comm_id = content.get("comm_id")
        if comm_id in self.received:
            if msg["header"]["msg_type"] == "comm_msg":
                self.received[comm_id].append(content["data"])
            elif msg["header"]["msg_type"] == "comm_close":
                self.closed.add(comm_id)

    def next(self, comm_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        """The first message received on ``comm_id`` that satisfies ``predicate`` (consumed)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, data in enumerate(self.received[comm_id]):
                if predicate(data):
                    return self.received[comm_id].pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching message on comm {comm_id} within {timeout} s")
            self._pump(min(remaining, 0.05))

    def wait_closed(self, comm_id: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while comm_id not in self.closed and time.monotonic() < deadline:
            self._pump(0.05)
        return comm_id in self.closed

    def request(self, control_id: str, op: str, timeout: float = 10, **args: Any) -> dict[str, Any]:
        req_id = uuid.uuid4().hex
        self.message(control_id, protocol.request(op, req_id, **args))
        return self.next(control_id, lambda data: data.get("req_id") == req_id, timeout)
