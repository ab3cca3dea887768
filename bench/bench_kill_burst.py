"""Kill bursts through REST, seen on the event bus: p95 to ``killed`` under 200 ms.

A real server (subprocess) with one notebook whose kernel runs ``--jobs``
jobs asleep in ``time.sleep(600)``, twice:

1. one ``POST jupyter-bgjobs/kernels/{id}/kill``: from the request to each
   job's ``killed`` on the bus;
2. ``--jobs`` single ``POST jupyter-bgjobs/jobs/{uid}/kill``, all sent at
   once (the HTTP client keeps 50 in flight): from each request's start to
   that job's ``killed`` on the bus.

Prints p50, p95 and the last job's time, against the bar.

    .venv/bin/python bench/bench_kill_burst.py [--jobs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from harness import ServerProcess, percentile, run

BAR = 0.200


def sleepers(count: int, tag: str) -> str:
    return f"""
import time
for i in range({count}):
    jobs.new(time.sleep, 600, name=f"{tag}{{i}}")
"""


async def wait_running(server: ServerProcess, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 120
    while True:
        page = await server.json("GET", "jupyter-bgjobs/jobs", params={"status": "running", "limit": "1000"})
        if len(page["jobs"]) >= count or time.monotonic() > deadline:
            return list(page["jobs"])
        await asyncio.sleep(0.2)


async def burst(server: ServerProcess, client: Any, count: int, tag: str, kill: Any) -> tuple[list[float], float]:
    """Start ``count`` sleepers, kill them with ``kill(jobs) -> {uid: sent}``; seconds to killed, and the request's."""
    await run(client, sleepers(count, tag))
    jobs = [job for job in await wait_running(server, count) if job["name"].startswith(tag)]
    killed: dict[str, float] = {}
    stop = asyncio.Event()

    async def listen() -> None:
        async for arrived, event in server.job_events(stop):
            for job in event["changed"]:
                if job["status"] == "killed" and job["uid"] not in killed:
                    killed[job["uid"]] = arrived
            if len(killed) >= len(jobs):
                stop.set()

    listener = asyncio.ensure_future(listen())
    await asyncio.sleep(0.5)  # subscribed
    began = time.time()
    sent = await kill(jobs)
    request = time.time() - began
    try:
        await asyncio.wait_for(listener, 60)
    except asyncio.TimeoutError:
        stop.set()
    return [killed[uid] - sent[uid] for uid in sent if uid in killed] + [
        float("inf") for uid in sent if uid not in killed
    ], request


async def main(count: int) -> None:
    server = ServerProcess()
    await server.start()
    try:
        (kernel_id,) = [await server.start_session("kills.ipynb")]
        await server.wait_ready([kernel_id])
        client = await server.kernel_client(kernel_id)

        async def kill_kernel(jobs: list[dict[str, Any]]) -> dict[str, float]:
            sent = time.time()
            await server.fetch("POST", f"jupyter-bgjobs/kernels/{kernel_id}/kill", body={})
            return {job["uid"]: sent for job in jobs}

        async def kill_each(jobs: list[dict[str, Any]]) -> dict[str, float]:
            sent: dict[str, float] = {}

            async def one(uid: str) -> None:
                sent[uid] = time.time()
                await server.fetch("POST", f"jupyter-bgjobs/jobs/{uid}/kill")

            await asyncio.gather(*(one(job["uid"]) for job in jobs))
            return sent

        results = {}
        for label, tag, kill in [
            ("one POST kernels/{id}/kill", "k", kill_kernel),
            (f"{count} POST jobs/{{uid}}/kill", "s", kill_each),
        ]:
            results[label] = await burst(server, client, count, tag, kill)
        client.stop_channels()
    finally:
        await server.stop()
    print(f"{count} running jobs (time.sleep(600)) in one kernel, killed through REST; to 'killed' on the bus:")
    for label, (seconds, request) in results.items():
        p50, p95 = percentile(seconds, 0.5), percentile(seconds, 0.95)
        print(
            f"  {label:28} p50 {p50 * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms"
            f"  last {max(seconds) * 1000:6.0f} ms  (requests answered in {request * 1000:.0f} ms;"
            f" p95 / bar {p95 / BAR:.2f}x)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    asyncio.run(main(parser.parse_args().jobs))
