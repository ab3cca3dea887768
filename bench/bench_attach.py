"""Kernel start to ``bgjobs: ready``: 50 notebooks opened one after the other (bar: each < 2 s, median < 0.5 s).

A real server (subprocess, 127.0.0.1). Each round opens a notebook as
JupyterLab does (``POST api/sessions`` with a new kernel), then polls
``GET jupyter-bgjobs/kernels`` every 10 ms until the kernel's row says
``ready``, then shuts the session's kernel down. Two times per round:

- *attach*: from the moment the POST answered (the kernel process runs) to
  ``ready``: the relay's part, the figure the bar is on;
- *open*: from the moment the POST was sent: what a user waits after
  opening a notebook, kernel start included.

The baseline, measured in the same round: when the kernel first answers a
``kernel_info_request`` of a client of this process (asked every 10 ms on
the control channel). ``ready`` minus that is the relay's own share; the rest
is the kernel starting, which no relay can shorten.

    .venv/bin/python bench/bench_attach.py [--starts 50] [--kernel python3] [--log server.log]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from harness import ServerProcess, percentile
from jupyter_client.asynchronous.client import AsyncKernelClient

from tests.server_process import first_control_answer

POLL = 0.01
TIMEOUT = 60.0
BAR_MAX = 2.0
BAR_MEDIAN = 0.5


async def ready_time(server: ServerProcess, kernel_id: str, since: float) -> float:
    """Seconds from ``since`` until the kernel's row says ``ready`` (fails on ``unavailable``)."""
    while True:
        for row in await server.json("GET", "jupyter-bgjobs/kernels"):
            if row["kernel_id"] != kernel_id:
                continue
            if row["bgjobs"] == "ready":
                return time.perf_counter() - since
            if row["bgjobs"] == "unavailable":
                raise RuntimeError(f"kernel {kernel_id} is unavailable: {row['reason']}")
        if time.perf_counter() - since > TIMEOUT:
            raise RuntimeError(f"kernel {kernel_id} not ready after {TIMEOUT} s")
        await asyncio.sleep(POLL)


async def first_answer(server: ServerProcess, kernel_id: str) -> float:
    """When the kernel first answers a kernel_info_request on its control channel (perf_counter)."""
    client = AsyncKernelClient()
    client.load_connection_file(str(server.runtime / f"kernel-{kernel_id}.json"))
    return await first_control_answer(client, POLL)


async def main(starts: int, kernel_name: str, log: str | None) -> int:
    server = ServerProcess(log=log)
    await server.start()
    attach: list[float] = []
    opened: list[float] = []
    kernel: list[float] = []
    relay: list[float] = []
    try:
        for index in range(starts):
            sent = time.perf_counter()
            body = {
                "path": f"n{index}.ipynb",
                "name": f"n{index}.ipynb",
                "type": "notebook",
                "kernel": {"name": kernel_name},
            }
            session = await server.json("POST", "api/sessions", body)
            answered = time.perf_counter()
            kernel_id = session["kernel"]["id"]
            first, seconds = await asyncio.gather(
                first_answer(server, kernel_id), ready_time(server, kernel_id, answered)
            )
            attach.append(seconds)
            opened.append(answered - sent + seconds)
            kernel.append(first - answered)
            relay.append(seconds - kernel[-1])
            print(
                f"start {index + 1:2d}: ready {seconds * 1000:7.1f} ms after the POST answered "
                f"(kernel's first answer {kernel[-1] * 1000:7.1f} ms, relay {relay[-1] * 1000:6.1f} ms)",
                flush=True,
            )
            await server.fetch("DELETE", f"api/sessions/{session['id']}")
    finally:
        await server.stop()

    print(f"\n{kernel_name}, {starts} kernel starts in a row")
    rows = (
        ("attach (POST answered -> ready)", attach),
        ("open (POST sent -> ready)", opened),
        ("baseline: kernel's first answer", kernel),
        ("relay's share (ready - answer)", relay),
    )
    for name, values in rows:
        print(
            f"{name:34s} median {statistics.median(values) * 1000:7.1f} ms   "
            f"p95 {percentile(values, 0.95) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
        )
    slow = sum(seconds >= BAR_MAX for seconds in attach)
    passed = slow == 0 and statistics.median(attach) < BAR_MEDIAN
    print(f"relay's share of the median attach: {statistics.median(relay) / statistics.median(attach):.0%}")
    print(
        f"bar: each attach < {BAR_MAX:.0f} s ({slow} of {starts} over), median < {BAR_MEDIAN} s: "
        f"{'PASS' if passed else 'FAIL'}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=50)
    parser.add_argument("--kernel", default="python3")
    parser.add_argument("--log", help="write the server's log to this file")
    options = parser.parse_args()
    sys.exit(asyncio.run(main(options.starts, options.kernel, options.log)))
