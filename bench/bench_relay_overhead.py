"""Relay overhead: server CPU while one kernel prints 50 MB, with vs without the extension (bar: <= 5% more).

Two real servers (subprocesses, 127.0.0.1), the same but for the extension,
each with one notebook kernel and a browser-like client on the kernel's
WebSocket that receives every output message. The kernel prints 50 MB
(51 200 lines of 1 KB, flushed every 50 lines), from the cell itself and, in a second workload,
from a background job (its output is echoed to the cell and its output tail
changes all along, so the relay gets updates). The CPU time of each server
process is read from /proc for the span of each print; the two kernels
print at the same time, so that the rest of the machine's load weighs on
both servers alike.

On a shared machine that difference is noisy (the same print costs a server
1.1 to 2.8 s), so the relay's work is also accounted for directly: a wiretap
on the kernel's IOPub keeps every message the relay receives (the comm
topics), and after the run those messages go through the server's own code
(jupyter_client's deserialisation, the protocol's validation, the store with
its SQLite history, the Job JSON and one event per message) in this
process, timed with its CPU clock.

    .venv/bin/python bench/bench_relay_overhead.py [--rounds 7] [--megabytes 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
import uuid

import zmq
import zmq.asyncio
from harness import ServerProcess
from jupyter_client.session import Session
from jupyter_events import EventLogger
from tornado.websocket import WebSocketClientConnection

from jupyter_bgjobs import protocol
from jupyter_bgjobs.server.events import JobEvents
from jupyter_bgjobs.server.history import History
from jupyter_bgjobs.server.model import RestViews
from jupyter_bgjobs.server.store import JobStore

LINE = 1024  # bytes a printed line, newline included
RATE_WINDOW = 3.0  # ZMQChannelsWebsocketConnection.rate_limit_window


class Tab:
    """One kernel of a server, seen through its WebSocket as a notebook tab."""

    def __init__(self, server: ServerProcess, kernel_id: str, socket: WebSocketClientConnection) -> None:
        self.server = server
        self.kernel_id = kernel_id
        self.socket = socket
        self.session = uuid.uuid4().hex

    @classmethod
    async def open(cls, server: ServerProcess, path: str) -> Tab:
        kernel_id = await server.start_session(path)
        if server.extension:
            await server.wait_ready([kernel_id])
        tab = cls(server, kernel_id, await server.channels(kernel_id))
        await tab.execute("import time", until_idle=True)
        return tab

    def send(self, code: str) -> str:
        msg_id = uuid.uuid4().hex
        message = {
            "header": {
                "msg_id": msg_id,
                "msg_type": "execute_request",
                "username": "bench",
                "session": self.session,
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
            "channel": "shell",
            "buffers": [],
        }
        self.socket.write_message(json.dumps(message))
        return msg_id

    async def execute(self, code: str, until_idle: bool = False, until_bytes: int = 0) -> int:
        """Run ``code``; wait for its reply and idle status (and ``until_bytes`` of stream output)."""
        msg_id = self.send(code)
        received = 0
        replied = idle = False
        while not (replied and (idle or not until_idle) and received >= until_bytes):
            raw = await self.socket.read_message()
            assert raw is not None, "the kernel WebSocket closed"
            msg = json.loads(raw)
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                received += len(msg["content"]["text"])
            elif msg.get("parent_header", {}).get("msg_id") == msg_id:
                if kind == "execute_reply":
                    replied = True
                    assert msg["content"]["status"] == "ok", msg["content"]
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
        return received


# 50 lines of 1 KB, then a flush: one stream message each time, so that both
# servers get the same messages however fast the kernel runs.
PRINT = "import sys\nfor _ in range({blocks}):\n    print(('x' * {width} + '\\n') * 50, end='')\n    sys.stdout.flush()"
WORKLOADS = {"cell prints": PRINT, "job prints": "%%job\n" + PRINT}


async def measure(tab: Tab, workload: str, megabytes: int, everything: bool) -> tuple[float, int]:
    """Server CPU seconds for one print of ``megabytes``, and the bytes the tab received."""
    lines = megabytes * 1024 * 1024 // LINE // 50 * 50
    code = WORKLOADS[workload].format(blocks=lines // 50, width=LINE - 1)
    # The server's rate limiter counts over a 3 s window: start every print
    # with an empty one, whichever print came before on that server.
    await asyncio.sleep(RATE_WINDOW + 0.5)
    before = tab.server.cpu_seconds()
    received = await tab.execute(code, until_idle=True, until_bytes=lines * LINE if everything else 0)
    if workload == "job prints":  # the job's end and its last updates
        received += await tab.execute("jobs.list()[-1].wait(); time.sleep(0.3)", until_idle=True)
    return tab.server.cpu_seconds() - before, received


class Wiretap:
    """Every comm message a kernel publishes (what the relay receives), kept as raw frames."""

    def __init__(self, server: ServerProcess, kernel_id: str) -> None:
        info = json.loads((server.runtime / f"kernel-{kernel_id}.json").read_text())
        self.key, self.scheme = info["key"].encode(), info["signature_scheme"]
        self._context = zmq.asyncio.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.connect(f"tcp://{info['ip']}:{info['iopub_port']}")
        self._socket.setsockopt(zmq.SUBSCRIBE, b"comm-")
        self.frames: list[list[bytes]] = []
        self._task = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        while True:
            parts = await self._socket.recv_multipart()
            if parts[0] != b"comm-":  # not ipykernel's welcome to this very subscription
                self.frames.append(parts)

    def take(self) -> list[list[bytes]]:
        frames, self.frames = self.frames, []
        return frames

    def close(self) -> None:
        self._task.cancel()
        self._socket.close(linger=0)
        self._context.term()


async def replay(frames: list[list[bytes]], key: bytes, scheme: str) -> float:
    """CPU seconds the server's code spends on these relay messages (in this process)."""
    session = Session(key=key, signature_scheme=scheme)
    with tempfile.TemporaryDirectory() as directory:
        store = JobStore(History(f"{directory}/history.sqlite", logging.getLogger("replay")))
        await store.open()
        views = RestViews()
        store.add_listener(views.on_change)
        events = JobEvents(EventLogger(), views=views)
        events.register_schema()
        store.add_listener(events.on_change)
        began = time.process_time()  # every thread of this process: the history's too
        for parts in frames:
            _, message = session.feed_identities(parts)
            data = session.deserialize(message)["content"].get("data")
            push = protocol.parse_push(data)
            if push["type"] == "snapshot":
                store.apply_snapshot("kernel", push["jobs"])
            elif push["type"] == "update":
                store.apply_update("kernel", push["jobs"], push["removed"])
            events.flush()  # an event per message: more than the server's one per 50 ms
        await store.flush()
        spent = time.process_time() - began
        await store.close()
    return spent


CONFIGURATIONS = {
    # The server's defaults: past 1 MB/s of IOPub data it stops forwarding
    # output to the tab (and says "IOPub data rate exceeded").
    "default IOPub rate limit": [],
    # Every byte forwarded to the tab.
    "no rate limit": ["--ZMQChannelsWebsocketConnection.limit_rate=False"],
}


async def compare(configuration: str, rounds: int, megabytes: int) -> None:
    args = CONFIGURATIONS[configuration]
    everything = bool(args)
    servers = {"with": ServerProcess(extension=True, args=args), "without": ServerProcess(extension=False, args=args)}
    for server in servers.values():
        await server.start()
    cpu: dict[tuple[str, str], list[float]] = {}
    received: dict[tuple[str, str], list[int]] = {}
    try:
        tabs = {name: await Tab.open(server, "printer.ipynb") for name, server in servers.items()}
        for tab in tabs.values():  # warm up
            await measure(tab, "cell prints", 1, everything)
        tap = Wiretap(servers["with"], tabs["with"].kernel_id)
        tapped: dict[str, list[list[list[bytes]]]] = {workload: [] for workload in WORKLOADS}
        for _ in range(rounds):
            for workload in WORKLOADS:
                tap.take()
                # Both kernels print at the same time: whatever else the
                # machine does then weighs on both servers alike.
                results = await asyncio.gather(
                    *(measure(tabs[name], workload, megabytes, everything) for name in ("with", "without"))
                )
                tapped[workload].append(tap.take())
                for name, (seconds, got) in zip(("with", "without"), results):
                    cpu.setdefault((workload, name), []).append(seconds)
                    received.setdefault((workload, name), []).append(got)
        tap.close()
        relay = servers["with"]
        kernels = await relay.json("GET", "jupyter-bgjobs/kernels")
        assert kernels[0]["bgjobs"] == "ready", kernels
        job = (await relay.json("GET", "jupyter-bgjobs/jobs", params={"limit": "1"}))["jobs"][0]
        assert job["status"] == "finished", job
        assert len(job["output_tail"]) > 7000, job
    finally:
        for server in servers.values():
            await server.stop()

    print(f"  {configuration}:")
    for workload in WORKLOADS:
        prints = tapped[workload]
        counts = [len(frames) for frames in prints]
        size = statistics.median(sum(len(part) for parts in frames for part in parts) for frames in prints)
        relay_cpu = statistics.median([await replay(frames, tap.key, tap.scheme) for frames in prints])
        without = statistics.median(cpu[(workload, "without")])
        print(
            f"    {workload:12} the relay received {statistics.median(counts):.0f} messages ({size / 1024:.0f} KB)"
            f" a print; the server's code spends {relay_cpu * 1000:.1f} ms on them (replayed here):"
            f" {relay_cpu / without:.1%} of a print's server CPU without the extension  (bar: <= 5%)"
        )
    for workload in WORKLOADS:
        with_, without = statistics.median(cpu[(workload, "with")]), statistics.median(cpu[(workload, "without")])
        paired = statistics.median(a / b for a, b in zip(cpu[(workload, "with")], cpu[(workload, "without")]))
        got = statistics.median(received[(workload, "with")]) / 1024 / 1024
        got_without = statistics.median(received[(workload, "without")]) / 1024 / 1024
        rounds_text = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(cpu[(workload, "with")], cpu[(workload, "without")]))
        print(
            f"    {workload:12} with {with_:6.2f} s, without {without:6.2f} s: ratio {with_ / without:.3f}"
            f" (median of the rounds' ratios {paired:.3f})"
            f"  (bar: <= 1.05; tab received {got:.1f}/{got_without:.1f} MB; rounds with/without: {rounds_text})"
        )


async def main(rounds: int, megabytes: int) -> None:
    print(f"server CPU while one kernel prints {megabytes} MB to a browser-like WebSocket client,")
    print(f"median of {rounds} rounds, the two servers' kernels printing at the same time:")
    for configuration in CONFIGURATIONS:
        await compare(configuration, rounds, megabytes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.megabytes))
