"""A jupyter-server extension for the benches: a probe of the server's event loop.

A task on the server's loop sleeps ``PERIOD`` seconds again and again and
records how late it wakes: the time the loop was held by something else.
``GET bench-loop-probe`` answers the lateness samples (and the pauses of the
garbage collector, which stop the loop too) since the last ``POST``
(which clears them); ``POST bench-loop-probe/profile`` starts cProfile on
the loop's thread and ``DELETE bench-loop-probe/profile?file=...`` stops it
and writes the stats there. Enabled by ``bench_loop_stall.py`` only
(``jpserver_extensions={"loop_probe": True}`` with ``bench/`` on the path).
With ``LOOP_PROBE_SLOW=0.05`` in the environment, asyncio's debug mode logs
every callback that holds the loop longer than that, by name.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import os
import time
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop

PERIOD = 0.005


class Probe:
    """Lateness of a periodic wake-up on the loop it runs on."""

    def __init__(self) -> None:
        # (time.time() at wake-up, lateness, CPU seconds of the loop's thread and of the process meanwhile)
        self.samples: list[tuple[float, float, float, float]] = []
        self.profile: cProfile.Profile | None = None
        self.gc_pauses: list[tuple[int, float]] = []  # (generation, seconds) of each collection
        self._gc_began = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_began))

    async def run(self) -> None:
        while True:
            began, cpu, process = time.perf_counter(), time.thread_time(), time.process_time()
            await asyncio.sleep(PERIOD)
            # CPU time of the loop's thread and of the whole server over the
            # same interval: a stall much longer than both is the process
            # waiting for a core; one where the other threads' CPU is large is
            # the loop waiting for the GIL.
            late = time.perf_counter() - began - PERIOD
            self.samples.append((time.time(), late, time.thread_time() - cpu, time.process_time() - process))


class ProbeHandler(APIHandler):
    def initialize(self, probe: Probe) -> None:
        self.probe = probe

    @web.authenticated
    def get(self) -> None:
        self.finish(json.dumps({"lateness": self.probe.samples, "gc": self.probe.gc_pauses}))

    @web.authenticated
    def post(self) -> None:
        self.probe.samples, self.probe.gc_pauses = [], []
        self.finish("{}")


class ProfileHandler(ProbeHandler):
    @web.authenticated
    def post(self) -> None:
        self.probe.profile = cProfile.Profile()
        self.probe.profile.enable()
        self.finish("{}")

    @web.authenticated
    def delete(self) -> None:
        if self.probe.profile is not None:
            self.probe.profile.disable()
            self.probe.profile.dump_stats(self.get_query_argument("file"))
            self.probe.profile = None
        self.finish("{}")


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "loop_probe"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    probe = Probe()
    tasks: list[asyncio.Task[None]] = []

    def start() -> None:
        if os.environ.get("LOOP_PROBE_SLOW"):  # name each callback that holds the loop that long (debug mode)
            loop = asyncio.get_running_loop()
            loop.set_debug(True)
            loop.slow_callback_duration = float(os.environ["LOOP_PROBE_SLOW"])
        tasks.append(asyncio.ensure_future(probe.run()))

    IOLoop.current().add_callback(start)
    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "bench-loop-probe"), ProbeHandler, {"probe": probe}),
            (url_path_join(base, "bench-loop-probe/profile"), ProfileHandler, {"probe": probe}),
        ],
    )
