"""A real Jupyter server for the server benchmarks: a subprocess on 127.0.0.1, its REST API,
its kernels' connection files, and its CPU time.

Nothing here is a benchmark; ``bench_*.py`` are.
"""

from __future__ import annotations

import asyncio
import json
import math
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


def percentile(values: Iterable[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``jupyter server`` in a subprocess, with directories of its own."""

    def __init__(self, *, extension: bool = True, args: Iterable[str] = (), log: str | None = None) -> None:
        self.extension = extension
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="bgjobs-bench-")
        self.root = Path(self._dir.name)
        self.runtime = self.root / "runtime"
        config = self.root / "config"
        config.mkdir()
        (config / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": extension}}})
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
        self.process = await asyncio.create_subprocess_exec(
            *self._args, env=self._env, stdout=self._log, stderr=self._log
        )
        deadline = time.monotonic() + 60
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
        request = HTTPRequest(
            self.url(path, params),
            method=method,
            headers={"Authorization": f"token {self.token}"},
            body=json.dumps(body) if body is not None else ("" if method == "POST" else None),
            request_timeout=120,
        )
        return await self.http.fetch(request)

    async def json(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
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

    async def kernel_client(self, kernel_id: str) -> AsyncKernelClient:
        """A ZeroMQ client of one of the server's kernels (a second frontend)."""
        client = AsyncKernelClient()
        client.load_connection_file(str(self.runtime / f"kernel-{kernel_id}.json"))
        client.start_channels(hb=False)  # a heartbeat not beating yet would read as a dead kernel
        await client.wait_for_ready(timeout=60)
        return client

    async def channels(self, kernel_id: str) -> WebSocketClientConnection:
        """The kernel's WebSocket, as a browser tab opens it."""
        request = HTTPRequest(
            f"ws://127.0.0.1:{self.port}/api/kernels/{kernel_id}/channels",
            headers={"Authorization": f"token {self.token}"},
        )
        return await websocket_connect(request, max_message_size=1 << 30)

    async def events(self) -> WebSocketClientConnection:
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


# Runs in a process of its own, so that the time this process spends on its
# own work (kernel clients, event parsing) never counts as server latency.
_POLLER = """
import http.client, sys, time
port, token, path, period, out = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
connection = http.client.HTTPConnection("127.0.0.1", int(port))
with open(out, "w", buffering=1) as samples:
    while True:
        began = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": "token " + token})
        connection.getresponse().read()
        samples.write(f"{time.time()} {time.perf_counter() - began}\\n")
        time.sleep(period)
"""


class Poller:
    """Times one GET again and again from another process; ``samples()`` are (when, seconds)."""

    def __init__(self, server: Server, path: str, period: float = 0.02) -> None:
        self._out = server.root / f"poll-{secrets.token_hex(4)}.txt"
        self._args = [sys.executable, "-c", _POLLER, str(server.port), server.token, path, str(period), str(self._out)]
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(*self._args)

    async def stop(self) -> list[tuple[float, float]]:
        assert self._process is not None
        self._process.terminate()
        await self._process.wait()
        return [
            (float(when), float(seconds))
            for when, seconds in (line.split() for line in self._out.read_text().splitlines() if line.count(" ") == 1)
        ]


async def run(client: AsyncKernelClient, code: str, timeout: float = 600) -> dict[str, Any]:
    """Run ``code`` through a ZeroMQ client; the execute_reply content (fails on an error)."""
    reply = await client.execute_interactive(code, timeout=timeout, allow_stdin=False, output_hook=lambda msg: None)
    content = dict(reply["content"])
    if content["status"] != "ok":
        raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
    return content
