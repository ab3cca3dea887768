"""Scale: 20 kernels x 500 jobs finishing in bursts. No transition lost; GET jobs?limit=100 p95 < 50 ms.

A real server (subprocess, 127.0.0.1) with 20 notebook sessions. Each kernel
starts its 500 jobs in 5 bursts of 100; the jobs of a burst, in every kernel,
end at the same instant (2000 jobs ending together every 2 s). Meanwhile a
separate process times ``GET jupyter-bgjobs/jobs?limit=100`` and
``GET api/status`` every 20 ms, and this process listens to the event bus.

Afterwards every job must be ``finished`` with its own result and path in
REST (all 10 000, walked page by page), in the last event that mentioned it,
and in its kernel. The GETs are then timed at rest, with the 10 000 jobs in
the store. The same load is run again on a server without the extension:
its ``api/status`` times and CPU are the floor of this machine under that
load, measured in the same run.

    .venv/bin/python bench/bench_scale.py [--kernels 20] [--jobs 500] [--bursts 5] [--round2]

``--round2`` runs the second round's size (issue 13): 50 kernels x 2,000 jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from harness import Poller, ServerProcess, percentile, run

BURST_GAP = 2.0


def load_code(kernel: int, jobs: int, bursts: int, start: float) -> str:
    per_burst = jobs // bursts
    # %load_ext: the server without the extension (the floor) loads nothing into its kernels.
    return f"""
%load_ext jupyter_bgjobs
import time
def until(moment, kernel, index):
    time.sleep(max(0.0, moment - time.time()))
    return (kernel, index)
for burst in range({bursts}):
    moment = {start!r} + burst * {BURST_GAP}
    for i in range({per_burst}):
        index = burst * {per_burst} + i
        jobs.new(until, moment, {kernel}, index, name=f"k{kernel}-{{index}}")
    time.sleep(max(0.0, moment - time.time()) + 0.2)
for job in jobs.list():
    job.wait()
"""


@dataclass
class Phase:
    """What one run of the load measured."""

    seconds: float = 0.0
    cpu: float = 0.0
    jobs_get: list[float] = field(default_factory=list)
    status_get: list[float] = field(default_factory=list)


async def listen(
    server: ServerProcess, last: dict[str, dict[str, Any]], counter: list[int], stop: asyncio.Event
) -> None:
    async for _, event in server.job_events(stop):
        counter[0] += 1
        for job in event["changed"]:
            last[job["uid"]] = job


async def time_gets(server: ServerProcess, path: str, params: dict[str, str] | None, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        await server.fetch("GET", path, params=params)
        samples.append(time.perf_counter() - began)
        await asyncio.sleep(0.005)
    return samples


async def load(
    server: ServerProcess, kernels: int, jobs_per_kernel: int, bursts: int
) -> tuple[Phase, list[str], list[Any]]:
    """Start the kernels, run the load; what was measured, the kernel ids and their clients."""
    began = time.monotonic()
    ids = await asyncio.gather(*(server.start_session(f"nb-{k:02}.ipynb") for k in range(kernels)))
    if server.extension:
        await server.wait_ready(ids)
    clients = [await server.kernel_client(kernel_id) for kernel_id in ids]
    print(f"  {kernels} kernels ready in {time.monotonic() - began:.1f} s")

    paths = ["/api/status"] + (["/jupyter-bgjobs/jobs?limit=100"] if server.extension else [])
    pollers = [Poller(server, path) for path in paths]
    for poller in pollers:
        await poller.start()
    phase = Phase()
    cpu_before = server.cpu_seconds()
    start = time.time() + 3.0  # every kernel has created its first burst by then
    began = time.monotonic()
    await asyncio.gather(
        *(run(client, load_code(k, jobs_per_kernel, bursts, start)) for k, client in enumerate(clients))
    )
    if server.extension:  # everything ended in the kernels; wait until the server has seen it
        deadline = time.monotonic() + 30
        total = kernels * jobs_per_kernel
        while (await server.json("GET", "jupyter-bgjobs/jobs", params={"limit": "1"}))["counts"]["finished"] < total:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    phase.seconds = time.monotonic() - began
    phase.cpu = server.cpu_seconds() - cpu_before
    samples = [[seconds for _, seconds in await poller.stop()] for poller in pollers]
    phase.status_get = samples[0]
    phase.jobs_get = samples[1] if server.extension else []
    return phase, ids, clients


async def main(kernels: int, jobs_per_kernel: int, bursts: int) -> None:
    total = kernels * jobs_per_kernel
    print(f"{kernels} kernels x {jobs_per_kernel} jobs = {total}, ending in {bursts} bursts of {total // bursts}")
    print("with the extension:")
    server = ServerProcess()
    await server.start()
    try:
        last: dict[str, dict[str, Any]] = {}
        events = [0]
        stop = asyncio.Event()
        listener = asyncio.ensure_future(listen(server, last, events, stop))
        phase, ids, clients = await load(server, kernels, jobs_per_kernel, bursts)
        await asyncio.sleep(1.0)
        stop.set()
        await listener

        # --- nothing lost -----------------------------------------------------------
        seen: dict[str, dict[str, Any]] = {}
        cursor = None
        pages = 0
        while True:
            params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            page = await server.json("GET", "jupyter-bgjobs/jobs", params=params)
            pages += 1
            for job in page["jobs"]:
                assert job["uid"] not in seen, "a job came twice"
                seen[job["uid"]] = job
            cursor = page["next_cursor"]
            if cursor is None:
                break
        paths = {kernel_id: [f"nb-{k:02}.ipynb"] for k, kernel_id in enumerate(ids)}
        wrong_rest = [
            job
            for job in seen.values()
            if job["status"] != "finished"
            or job["result_repr"] != repr(tuple(int(part) for part in job["name"][1:].split("-")))
            or job["paths"] != paths[job["kernel_id"]]
        ]
        wrong_events = [uid for uid in seen if last.get(uid, {}).get("status") != "finished"]
        completed = 0
        for client in clients:
            outputs: list[dict[str, Any]] = []
            await client.execute_interactive(
                "print(len(jobs.completed))", output_hook=outputs.append, allow_stdin=False, timeout=60
            )
            completed += int("".join(m["content"]["text"] for m in outputs if m["header"]["msg_type"] == "stream"))
            client.stop_channels()
        lost = (total - len(seen)) + len(wrong_rest) + len(wrong_events) + (total - completed)

        # --- the GETs at rest, 10 000 jobs in the store ----------------------------------
        at_rest = {"api/status (floor)": await time_gets(server, "api/status", None, 200)}
        for label, params in [
            ("jobs?limit=100", {"limit": "100"}),
            ("jobs?limit=100&status=finished", {"limit": "100", "status": "finished"}),
            ("jobs?limit=100&path=nb-07.ipynb", {"limit": "100", "path": "nb-07.ipynb"}),
            ("jobs?limit=100&q=k7-49", {"limit": "100", "q": "k7-49"}),
            ("jobs?limit=100&status=running", {"limit": "100", "status": "running"}),
        ]:
            at_rest[label] = await time_gets(server, "jupyter-bgjobs/jobs", params, 200)
    finally:
        await server.stop()

    print("without the extension (same load, the machine's floor):")
    baseline_server = ServerProcess(extension=False)
    await baseline_server.start()
    try:
        baseline, _, clients = await load(baseline_server, kernels, jobs_per_kernel, bursts)
        for client in clients:
            client.stop_channels()
    finally:
        await baseline_server.stop()

    def stats(samples: list[float]) -> str:
        return f"p50 {percentile(samples, 0.5) * 1000:6.1f} ms  p95 {percentile(samples, 0.95) * 1000:6.1f} ms"

    print(
        f"  transitions lost: {lost}  ({len(seen)} jobs in REST over {pages} pages, {len(wrong_rest)} wrong there;"
        f" {len(wrong_events)} whose last event is not 'finished'; {completed} completed in the kernels)"
    )
    print(f"  {events[0]} events on the bus")
    print(
        f"  load phase: {phase.seconds:.1f} s, server CPU {phase.cpu:.1f} s"
        f" (without the extension {baseline.seconds:.1f} s, {baseline.cpu:.1f} s)"
    )
    print("  GET timed from another process every 20 ms during the bursts:")
    print(f"    jobs?limit=100                        {stats(phase.jobs_get)}  ({len(phase.jobs_get)} requests)")
    print(f"    api/status                            {stats(phase.status_get)}")
    print(f"    api/status, server without extension  {stats(baseline.status_get)}")
    print("  GET at rest, 10 000 jobs in the store (bar: jobs?limit=100 p95 < 50 ms):")
    for label, samples in at_rest.items():
        print(f"    {label:36}  {stats(samples)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument(
        "--round2", action="store_true", help="the sizes of the second round's bar: 50 kernels x 2,000 jobs"
    )
    args = parser.parse_args()
    if args.round2:
        args.kernels, args.jobs = 50, 2000
    asyncio.run(main(args.kernels, args.jobs, args.bursts))
