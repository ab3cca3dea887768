"""Code in the kernel closes the relay's comms: the relay opens others and says so in the kernel's row."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from jupyter_bgjobs import protocol

from .conftest import KERNELS
from .server_helpers import Api, Fetch, KernelTab, start_kernel

CLOSE = (
    "for _comm in [c for c in get_ipython().kernel.comm_manager.comms.values() if c.target_name == {target!r}]:"
    " _comm.close()"
)
OPEN_COMMS = (
    "sorted(c.target_name for c in get_ipython().kernel.comm_manager.comms.values()"
    " if c.target_name.startswith('jupyter_bgjobs'))"
)


async def wait_for_reason(api: Api, kernel_id: str, pattern: str, timeout: float = 10) -> dict[str, Any]:
    """The kernel's row once its ``reason`` matches ``pattern`` (and it is ready)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        row = await api.wait_for_kernel(kernel_id, "ready")
        if re.fullmatch(pattern, row["reason"]):
            return row
        assert loop.time() < deadline, f"the reason is {row['reason']!r}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("kernel_name", KERNELS)
async def test_a_control_comm_closed_by_user_code_is_opened_again_and_kill_works(
    jp_fetch: Fetch, jp_serverapp: Any, kernel_name: str
) -> None:
    api = Api(jp_fetch)
    kernel_id = await start_kernel(jp_fetch, "closer.ipynb", kernel_name)
    tab = KernelTab(jp_serverapp, kernel_id)
    try:
        await tab.run("import time")
        await tab.run("%job -n sleeper time.sleep(600)")
        row = await api.wait_for_kernel(kernel_id, "ready")
        assert row["reason"] == ""
        (job,) = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["running"])
        relay = jp_serverapp.web_app.settings["bgjobs_hub"].relays[kernel_id]
        first_control = relay.control.comm_id

        await tab.run(CLOSE.format(target=protocol.CONTROL_TARGET))
        row = await wait_for_reason(
            api,
            kernel_id,
            r"the kernel closed the relay's control comm at \d\d:\d\d:\d\d"
            r" \(code running in the kernel can\); another was opened",
        )
        assert relay.control.comm_id != first_control
        assert await tab.value(OPEN_COMMS) == [protocol.CONTROL_TARGET, protocol.EVENTS_TARGET]
        # The jobs are listed as before, and a kill goes through the new comm.
        assert [(job["name"], job["status"]) for job in await api.jobs()] == [("sleeper", "running")]
        reply = await api.call("POST", "jobs/{uid}/kill", expect=202, uid=job["uid"])
        assert reply.body["kill_requested"] is True
        (killed,) = await api.wait_for_jobs(lambda jobs: jobs[0]["status"] == "killed", timeout=5)
        assert killed["error"]["ename"] == "JobKilled"

        # The events comm too: a new job is listed through the new one.
        await tab.run(CLOSE.format(target=protocol.EVENTS_TARGET))
        await wait_for_reason(api, kernel_id, r"the kernel closed the relay's events comm at .*")
        await tab.run("%job -n after 6 * 7")
        (after, _) = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["finished", "killed"])
        assert (after["name"], after["result_repr"]) == ("after", "42")
    finally:
        tab.close()
