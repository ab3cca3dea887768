"""Kill through the REST API while the notebook's main shell is busy, on ipykernel 7 and 6."""

from __future__ import annotations

import asyncio
import json
import queue
import time
from typing import Any

import pytest

from jupyter_bgjobs import protocol

from .conftest import KERNELS
from .server_helpers import Api, Fetch, KernelTab, Notebooks


@pytest.fixture
def jp_server_config(server_kernelspecs: None) -> dict[str, Any]:
    # JupyterLab too: its page config tells the browser which statuses to ignore.
    return {"ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True, "jupyterlab": True}}}


def test_the_relays_control_messages_are_untracked_by_the_server_and_jupyterlab(jp_serverapp: Any) -> None:
    ours = set(protocol.CONTROL_CHANNEL_TYPES.values())
    assert ours <= set(jp_serverapp.kernel_manager.untracked_message_types)
    assert ours <= set(jp_serverapp.web_app.settings["page_config_data"]["untracked_message_types"])
    assert "comm_msg" not in jp_serverapp.kernel_manager.untracked_message_types


async def still_running(tab: KernelTab) -> bool:
    """True while the tab's cell has not answered (the main shell is busy with it)."""
    try:
        await tab.client.get_shell_msg(timeout=0.05)
    except queue.Empty:
        return True
    return False


@pytest.mark.parametrize("kernel_name", KERNELS)
async def test_kill_takes_effect_within_a_second_while_the_main_shell_sleeps(
    jp_fetch: Fetch, kernel_name: str, api: Api, notebooks: Notebooks
) -> None:
    kernel_id, tab = await notebooks.open("busy.ipynb", kernel_name)
    try:
        version = await tab.value("__import__('ipykernel').__version__")
        assert version.split(".")[0] == ("6" if kernel_name == "python3-ipk6" else "7")
        await tab.run("import time")
        await tab.run("%job -n sleeper time.sleep(60)")
        await api.wait_for_kernel(kernel_id)
        (job,) = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["running"])

        tab.start("time.sleep(30)")
        await asyncio.sleep(0.3)
        began = time.monotonic()
        reply = await api.call("POST", "jobs/{uid}/kill", expect=202, uid=job["uid"])
        assert (reply.body["uid"], reply.body["kill_requested"], reply.body["paths"]) == (
            job["uid"],
            True,
            ["busy.ipynb"],
        )
        (killed,) = await api.wait_for_jobs(lambda jobs: jobs[0]["status"] == "killed", timeout=5)
        took = time.monotonic() - began
        print(f"kill to killed in REST: {took * 1000:.0f} ms")
        assert took < 1.0, f"the kill took {took:.3f} s"
        assert await still_running(tab)
        # The kill went through the control channel; the kernel's busy/idle
        # statuses around it must not make the busy notebook look idle.
        kernel = json.loads((await jp_fetch("api", "kernels", kernel_id)).body)
        assert kernel["execution_state"] == "busy"
        assert killed["error"]["ename"] == "JobKilled"
        assert killed["ended"] is not None
    finally:
        await jp_fetch("api", "kernels", kernel_id, "interrupt", method="POST", body="")


async def test_kill_every_job_of_a_kernel_or_of_one_group(jp_fetch: Fetch, api: Api, notebooks: Notebooks) -> None:
    target, tab = await notebooks.open("target.ipynb")
    _, other_tab = await notebooks.open("other.ipynb")
    try:
        for code in (
            "import time",
            "%job -n done 1",
            "%job -n first time.sleep(60)",
            "%job -n second __import__('threading').Event().wait()",
            "pool = jobs.map(lambda x: time.sleep(60), range(4), workers=2, name='pool')",
        ):
            await tab.run(code)
        await other_tab.run("%job -n bystander __import__('time').sleep(60)")
        await api.wait_for_kernel(target)
        jobs = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs].count("running") == 5)
        uids = {job["name"]: job["uid"] for job in jobs}
        tab.start("time.sleep(30)")  # the notebook is busy meanwhile
        await asyncio.sleep(0.3)

        reply = await api.call(
            "POST", "kernels/{kernel_id}/kill", body='{"group": "pool"}', expect=202, kernel_id=target
        )
        assert sorted(reply.body["killed"]) == sorted([uids["pool [1/2]"], uids["pool [2/2]"]])
        await api.wait_for_jobs(
            lambda jobs: (
                {job["name"]: job["status"] for job in jobs}
                == {
                    "done": "finished",
                    "first": "running",
                    "second": "running",
                    "pool [1/2]": "killed",
                    "pool [2/2]": "killed",
                    "bystander": "running",
                }
            )
        )

        reply = await api.call("POST", "kernels/{kernel_id}/kill", expect=202, kernel_id=target)
        assert sorted(reply.body["killed"]) == sorted([uids["first"], uids["second"]])
        jobs = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs].count("killed") == 4)
        assert {job["name"]: job["status"] for job in jobs}["bystander"] == "running"
        assert {job["name"]: job["status"] for job in jobs}["done"] == "finished"
        assert await still_running(tab)

        reply = await api.call("POST", "kernels/{kernel_id}/kill", expect=202, kernel_id=target)
        assert reply.body == {"killed": []}
    finally:
        await jp_fetch("api", "kernels", target, "interrupt", method="POST", body="")
