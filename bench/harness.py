"""What the server benchmarks share: a real Jupyter server in a subprocess (the same
``ServerProcess`` the tests use), a poller in another process, percentiles, and running
code through a kernel client.

Nothing here is a benchmark; ``bench_*.py`` are.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient

# The benches run as scripts from bench/: the repository root makes the tests' package importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server_process import ServerProcess

__all__ = ["Poller", "ServerProcess", "percentile", "run"]


def percentile(values: Iterable[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


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

    def __init__(self, server: ServerProcess, path: str, period: float = 0.02) -> None:
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
