"""A real Jupyter server in a subprocess on 127.0.0.1: its REST API, its kernels' connection
files, its event bus and its CPU time.

Shared by the benchmarks (``bench/harness.py``) and the tests that need a second server
next to pytest-jupyter's (a server restarted on the same history).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_bgjobs.server.events import SCHEMA_ID as EVENTS_SCHEMA  # the extension's events on the bus

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


async def first_control_answer(client: AsyncKernelClient, interval: float = 0.01) -> float:
    """When the kernel first answers a ``kernel_info_request`` of ``client`` on its control channel (perf_counter).

    The request is sent again every ``interval``: a starting kernel may drop
    what comes too early (ipykernel 6). The client's channels are stopped after.
    """
    client.start_channels(shell=False, iopub=False, stdin=False, hb=False, control=True)
    try:
        sent: set[str] = set()
        while True:
            msg = client.session.msg("kernel_info_request", {})
            sent.add(msg["header"]["msg_id"])
            client.control_channel.send(msg)
            try:
                reply = await client.control_channel.get_msg(timeout=interval)
            except Exception:  # queue.Empty: not yet
                continue
            if reply["parent_header"].get("msg_id") in sent:
                return time.perf_counter()
    finally:
        client.stop_channels()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``jupyter server`` in a subprocess, with directories of its own (config, data, runtime, root).

    ``extension`` enables jupyter_bgjobs or not; ``more_extensions`` are other server extensions
    to enable (importable modules, e.g. the benches' ``loop_probe``); ``args`` are more command-line options
    (e.g. ``--BgJobsApp.history_file=...``); ``log`` is a file for the server's output.
    """

    def __init__(
        self,
        *,
        extension: bool = True,
        more_extensions: Iterable[str] = (),
        args: Iterable[str] = (),
        log: str | None = None,
        start_timeout: float = 60,
    ) -> None:
        self.extension = extension
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.start_timeout = start_timeout
        self._dir = tempfile.TemporaryDirectory(prefix="bgjobs-server-")
        self.root = Path(self._dir.name)
        self.runtime = self.root / "runtime"
        config = self.root / "config"
        config.mkdir()
        (config / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "ServerApp": {
                        "jpserver_extensions": {"jupyter_bgjobs": extension, **dict.fromkeys(more_extensions, True)}
                    }
                }
            )
        )
        self._env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_DATA_DIR": str(self.root / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.runtime),
        }
        self._args = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            *args,
        ]
        self._log = open(log or os.devnull, "w")  # noqa: SIM115 (closed in stop)
        self.process: asyncio.subprocess.Process | None = None
        self.http = AsyncHTTPClient(max_clients=50)

    async def start(self) -> None:
        """Start the server; return once it (and the extension, if enabled) answers."""
        self.process = await asyncio.create_subprocess_exec(
            *self._args, env=self._env, stdout=self._log, stderr=self._log
        )
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                await self.fetch("GET", "api/status")
                break
            except (ConnectionError, OSError, HTTPClientError):
                if time.monotonic() > deadline or self.process.returncode is not None:
                    raise RuntimeError("the Jupyter server did not start") from None
                await asyncio.sleep(0.2)
        if self.extension:  # the extension answers once the server listens
            await self.fetch("GET", "jupyter-bgjobs/jobs", params={"limit": "1"})

    async def stop(self) -> None:
        """Stop the server as at a shutdown (SIGTERM: it shuts its kernels down); remove its directories."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._log.close()
        self._dir.cleanup()

    # --- HTTP -------------------------------------------------------------------

    def url(self, path: str, params: dict[str, str] | None = None) -> str:
        query = "&".join(f"{key}={value}" for key, value in (params or {}).items())
        return f"http://127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")

    async def fetch(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> HTTPResponse:
        """A request with the server's token; fails (``HTTPClientError``) on an error status."""
        request = HTTPRequest(
            self.url(path, params),
            method=method,
            headers={"Authorization": f"token {self.token}"},
            body=json.dumps(body) if body is not None else ("" if method == "POST" else None),
            request_timeout=120,
        )
        return await self.http.fetch(request)

    async def json(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        """The JSON answer of a request."""
        return json.loads((await self.fetch(method, path, body, params)).body)

    async def start_session(self, path: str, kernel: str = "python3") -> str:
        """A notebook session with a new kernel; the kernel's id."""
        body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": kernel}}
        return str((await self.json("POST", "api/sessions", body))["kernel"]["id"])

    async def wait_ready(self, kernel_ids: Iterable[str], timeout: float = 180) -> None:
        """Wait until background jobs are ready in every one of these kernels."""
        wanted = set(kernel_ids)
        deadline = time.monotonic() + timeout
        while True:
            kernels = await self.json("GET", "jupyter-bgjobs/kernels")
            if wanted <= {kernel["kernel_id"] for kernel in kernels if kernel["bgjobs"] == "ready"}:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"kernels not ready: {kernels}")
            await asyncio.sleep(0.1)

    async def kernel_client(self, kernel_id: str, timeout: float = 60) -> AsyncKernelClient:
        """A ZeroMQ client of one of the server's kernels (a second frontend)."""
        client = AsyncKernelClient()
        client.load_connection_file(str(self.runtime / f"kernel-{kernel_id}.json"))
        client.start_channels(hb=False)  # a heartbeat not beating yet would read as a dead kernel
        await client.wait_for_ready(timeout=timeout)
        return client

    async def channels(self, kernel_id: str) -> WebSocketClientConnection:
        """The kernel's WebSocket, as a browser tab opens it."""
        request = HTTPRequest(
            f"ws://127.0.0.1:{self.port}/api/kernels/{kernel_id}/channels",
            headers={"Authorization": f"token {self.token}"},
        )
        return await websocket_connect(request, max_message_size=1 << 30)

    async def events(self) -> WebSocketClientConnection:
        """The server's event bus, as JupyterLab subscribes to it."""
        request = HTTPRequest(
            f"ws://127.0.0.1:{self.port}/api/events/subscribe", headers={"Authorization": f"token {self.token}"}
        )
        return await websocket_connect(request)

    async def job_events(self, stop: asyncio.Event) -> AsyncIterator[tuple[float, dict[str, Any]]]:
        """(arrival time, event) of each job event on the bus, until ``stop`` or the socket closes."""
        socket = await self.events()
        try:
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(socket.read_message(), 0.5)
                except asyncio.TimeoutError:
                    continue
                if message is None:
                    return
                arrived = time.time()
                event = json.loads(message)
                if event.get("schema_id") == EVENTS_SCHEMA:
                    yield arrived, event
        finally:
            socket.close()

    # --- CPU --------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
