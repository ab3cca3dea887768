"""A bare protocol client of a kernel's jobs endpoint, for the protocol tests.

It drives the server's own ``KernelTransport`` (a session of its own, an IOPub
subscription to its own comms only, comms on the control channel or on a
kernel subshell) on an event loop in a thread of its own, and offers the
tests a blocking interface: open comms, send on them, and wait for what
comes back.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from jupyter_client.blocking.client import BlockingKernelClient

from jupyter_bgjobs import protocol
from jupyter_bgjobs.server.transport import KernelTransport

T = TypeVar("T")


class CommClient:
    """Opens comms to the jobs endpoint of one kernel and reads what comes back."""

    def __init__(self, kernel_client: BlockingKernelClient, route: str) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.closed: set[str] = set()
        self._arrived = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="comm-client", daemon=True)
        self._thread.start()
        self.transport = self._run(self._connect(kernel_client, route))

    async def _connect(self, kernel_client: BlockingKernelClient, route: str) -> KernelTransport:
        transport = KernelTransport(
            "comm-client", kernel_client.get_connection_info(), route=route, username="comm-client"
        )
        transport.start(self._on_iopub)
        info = await transport.kernel_info()
        await transport.enter_route(info)
        if "kernel subshells" in info.get("supported_features", []):
            await transport.wait_iopub_live(10)  # ipykernel 7 says when the subscription is live
        return transport

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    @property
    def route(self) -> str:
        return self.transport.route

    @property
    def subshell_id(self) -> str | None:
        return self.transport.subshell_id

    def stop(self) -> None:
        async def stop() -> None:
            self.transport.leave_route()
            self.transport.stop()

        self._run(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def call_control(self, msg_type: str, content: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        return self._run(self.transport.call("control", msg_type, content, timeout))

    def send(self, msg_type: str, content: dict[str, Any]) -> None:
        """A comm message on the route."""

        async def send() -> None:
            self.transport.send_comm(msg_type, content)

        self._run(send())

    def new_comm_id(self) -> str:
        """An id under this client's IOPub subscription (what the kernel says on it is received)."""

        async def new() -> str:
            return self.transport.new_comm_id()

        comm_id = self._run(new())
        with self._arrived:
            self.received[comm_id] = []
        return comm_id

    def open(self, target: str, data: Any = None) -> str:
        comm_id = self.new_comm_id()
        self.send(
            "comm_open",
            {"comm_id": comm_id, "target_name": target, "data": protocol.open_data() if data is None else data},
        )
        return comm_id

    def message(self, comm_id: str, data: Any) -> None:
        self.send("comm_msg", {"comm_id": comm_id, "data": data})

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        content = msg["content"]
        comm_id = content.get("comm_id")
        with self._arrived:
            if comm_id in self.received:
                if msg["header"]["msg_type"] == "comm_msg":
                    self.received[comm_id].append(content["data"])
                elif msg["header"]["msg_type"] == "comm_close":
                    self.closed.add(comm_id)
                self._arrived.notify_all()

    def next(self, comm_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        """The first message received on ``comm_id`` that satisfies ``predicate`` (consumed)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for index, data in enumerate(self.received[comm_id]):
                    if predicate(data):
                        return self.received[comm_id].pop(index)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching message on comm {comm_id} within {timeout} s")
                self._arrived.wait(remaining)

    def wait_closed(self, comm_id: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while comm_id not in self.closed and (remaining := deadline - time.monotonic()) > 0:
                self._arrived.wait(remaining)
            return comm_id in self.closed

    def request(self, control_id: str, op: str, timeout: float = 10, **args: Any) -> dict[str, Any]:
        req_id = uuid.uuid4().hex
        self.message(control_id, protocol.request(op, req_id, **args))
        return self.next(control_id, lambda data: data.get("req_id") == req_id, timeout)
