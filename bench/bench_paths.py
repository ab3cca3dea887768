"""Notebook paths: jupyter_server's ``list_sessions`` against the hub's reading of the session table.

jupyter_server's own ``SessionManager`` and ``AsyncMappingKernelManager``
with real kernels, one notebook session each (as a server has them); each
way of reading the kernel -> paths map is timed 300 times, alternated, and
the medians compared. ``GET jobs`` and ``GET kernels`` read the map once per
request, so this is what a request pays for it.

    .venv/bin/python bench/bench_paths.py [--kernels 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from jupyter_server.services.contents.manager import ContentsManager
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.services.sessions.sessionmanager import SessionManager

from jupyter_bgjobs.server.paths import SessionPaths

ROUNDS = 300


async def main(kernels: int) -> None:
    kernel_manager = AsyncMappingKernelManager()
    sessions = SessionManager(kernel_manager=kernel_manager, contents_manager=ContentsManager())
    try:
        for k in range(kernels):
            await sessions.create_session(
                path=f"nb-{k}.ipynb", name=f"nb-{k}.ipynb", type="notebook", kernel_name="python3"
            )
        reader = SessionPaths(sessions)
        expected = {session["kernel"]["id"]: [session["path"]] for session in await sessions.list_sessions()}
        assert await reader.read() == expected, "the two readings disagree"
        listed, direct = [], []
        for _ in range(ROUNDS):
            began = time.perf_counter()
            await sessions.list_sessions()
            listed.append(time.perf_counter() - began)
            began = time.perf_counter()
            await reader.read()
            direct.append(time.perf_counter() - began)
        slow, fast = statistics.median(listed), statistics.median(direct)
        print(f"{kernels} kernels, one session each; medians of {ROUNDS} alternated readings:")
        print(f"  list_sessions (what GET jobs read before)  {slow * 1e6:8.1f} us")
        print(f"  SessionPaths.read (the session table)      {fast * 1e6:8.1f} us  ({slow / fast:.0f}x faster)")
    finally:
        for kernel_id in kernel_manager.list_kernel_ids():  # started, so that they shut down quietly
            client = kernel_manager.get_kernel(kernel_id).client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
            client.stop_channels()
        await kernel_manager.shutdown_all()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=10)
    asyncio.run(main(parser.parse_args().kernels))
