"""The server extension with a real server and real kernels: jobs appear in REST."""

from __future__ import annotations

from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from .server_helpers import Fetch, execute, start_kernel, wait_for_jobs


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}}}


async def test_job_in_a_kernel_appears_in_rest(jp_fetch: Fetch, jp_serverapp: Any) -> None:
    kernel_id = await start_kernel(jp_fetch)
    reply = await execute(jp_serverapp, kernel_id, "%job 6*7")
    assert reply["status"] == "ok"
    jobs = await wait_for_jobs(jp_fetch, lambda jobs: any(job["status"] == "finished" for job in jobs))
    assert len(jobs) == 1
    job = jobs[0]
    assert job["kernel_id"] == kernel_id
    assert job["status"] == "finished"
    assert job["number"] == 0
    assert job["code"] == "6*7"
    assert job["kind"] == "expr"
    assert job["result_repr"] == "42"


async def test_jobs_route_refuses_requests_without_credentials(jp_fetch: Fetch, jp_serverapp: Any) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("jupyter-bgjobs", "jobs", headers={"Authorization": ""})
    assert refused.value.code in (401, 403)
