"""The REST API with a real server and real kernels: listing, filters, pages, errors, auth.

Every answer is checked against the OpenAPI document by ``Api``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from jupyter_bgjobs.server.handlers import route_table

from .server_helpers import Api, Fetch, Notebooks


def by_name(jobs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {job["name"]: job for job in jobs}


async def test_jobs_of_two_notebooks_with_their_paths_and_filters(api: Api, notebooks: Notebooks) -> None:
    one, tab_one = await notebooks.open("one.ipynb")
    two, tab_two = await notebooks.open("sub/two.ipynb")
    await tab_one.run("import time")
    await tab_one.run("%job -n answer 6*7")
    await tab_one.run("%job -n sleeper time.sleep(60)")
    await tab_two.run("%job -n broken 1/0")
    await tab_two.run("%job -n greeting 'hello'.upper()")
    settled = {"answer": "finished", "sleeper": "running", "broken": "failed", "greeting": "finished"}
    jobs = await api.wait_for_jobs(lambda jobs: {job["name"]: job["status"] for job in jobs} == settled)

    named = by_name(jobs)
    assert [job["name"] for job in jobs] == ["greeting", "broken", "sleeper", "answer"]  # newest first
    assert {name: (job["kernel_id"], job["paths"]) for name, job in named.items()} == {
        "answer": (one, ["one.ipynb"]),
        "sleeper": (one, ["one.ipynb"]),
        "broken": (two, ["sub/two.ipynb"]),
        "greeting": (two, ["sub/two.ipynb"]),
    }
    assert (named["answer"]["result_repr"], named["answer"]["number"], named["answer"]["code"]) == ("42", 0, "6*7")
    assert named["greeting"]["result_repr"] == "'HELLO'"
    assert named["broken"]["error"]["ename"] == "ZeroDivisionError"
    assert named["broken"]["error"]["traceback"][-1] == "ZeroDivisionError: division by zero\n"
    assert named["sleeper"]["ended"] is None
    assert named["sleeper"]["elapsed"] >= 0
    created = datetime.fromisoformat(named["answer"]["created"].replace("Z", "+00:00"))
    assert created.utcoffset() == timedelta(0)

    page = await api.get("jobs")
    assert page["counts"] == {"running": 1, "finished": 2, "dead": 1}
    assert page["next_cursor"] is None

    async def names(**params: Any) -> list[str]:
        return [job["name"] for job in await api.jobs(**params)]

    assert await names(status="running") == ["sleeper"]
    assert await names(status="dead") == ["broken"]
    assert await names(status="finished") == ["greeting", "answer"]
    assert await names(status="failed,running") == ["broken", "sleeper"]
    assert await names(status="dead, finished") == ["greeting", "broken", "answer"]
    assert await names(kernel_id=two) == ["greeting", "broken"]
    assert await names(path="one.ipynb") == ["sleeper", "answer"]
    assert await names(path="sub/two.ipynb", status="finished") == ["greeting"]
    assert await names(path="nowhere.ipynb") == []
    assert await names(q="UPPER") == ["greeting"]
    assert await names(q="two.ipynb") == ["greeting", "broken"]
    assert await names(q="division") == ["broken"]
    assert await names(q="sleep", kernel_id=two) == []
    filtered = await api.get("jobs", path="one.ipynb", status="finished")
    assert filtered["counts"] == {"running": 1, "finished": 1, "dead": 0}  # every filter but status

    one_job = await api.get("jobs/{uid}", uid=named["broken"]["uid"])
    assert one_job == {**named["broken"], "elapsed": one_job["elapsed"]}

    kernels = {kernel["kernel_id"]: kernel for kernel in await api.get("kernels")}
    assert kernels[one]["paths"] == ["one.ipynb"]
    assert kernels[one]["kernel_name"] == "python3"
    assert kernels[one]["bgjobs"] == "ready"
    assert kernels[one]["reason"] == ""
    assert kernels[one]["counts"] == {"running": 1, "finished": 1, "dead": 0}
    assert kernels[two]["counts"] == {"running": 0, "finished": 1, "dead": 1}
    assert kernels[two]["execution_state"] in ("idle", "busy")


async def test_pagination_walks_every_job_once_while_jobs_keep_coming(api: Api, notebooks: Notebooks) -> None:
    _, tab = await notebooks.open("many.ipynb")
    await tab.run("for i in range(250): jobs.new(lambda i=i: i * i, name=f'square {i}')")
    await api.wait_for_jobs(lambda jobs: True)
    first = await api.get("jobs", limit="1")
    while first["counts"]["finished"] < 250:
        first = await api.get("jobs", limit="1")
    expected = {job["uid"] for job in await api.jobs(limit="1000")}
    assert len(expected) == 250

    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "100"} if cursor is None else {"limit": "100", "cursor": cursor}
        page = await api.get("jobs", **params)
        pages += 1
        seen.extend(page["jobs"])
        assert len(page["jobs"]) <= 100
        if pages == 1:  # newer jobs arrive while the pages are walked
            await tab.run("for i in range(20): jobs.new(lambda: None, name='late')")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    uids = [job["uid"] for job in seen]
    assert pages == 3
    assert len(uids) == len(set(uids)) == 250
    assert set(uids) == expected
    created = [datetime.fromisoformat(job["created"].replace("Z", "+00:00")) for job in seen]
    assert created == sorted(created, reverse=True)  # newest first


BAD_PARAMETERS = [
    ({"limit": "0"}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "1001"}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "ten"}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "-5"}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "2.5"}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "²"}, "limit must be a whole number from 1 to 1000"),  # isdigit() but not int(): was a 500
    ({"limit": "١٠"}, "limit must be a whole number from 1 to 1000"),  # Arabic-Indic 10
    (
        {"status": "sleeping"},
        "unknown status 'sleeping'; use a comma list of: running, finished, dead, queued, failed, killed, lost",
    ),
    ({"status": "running,zombie"}, "unknown status 'zombie'"),
    ({"status": ",,"}, "status is empty"),
    ({"cursor": "not-a-cursor"}, "is not one this server issued"),
    ({"cursor": base64.urlsafe_b64encode(b'{"a": 1}').decode()}, "is not one this server issued"),
    ({"cursor": base64.urlsafe_b64encode(json.dumps([True, "x"]).encode()).decode()}, "is not one this server issued"),
    # A number no float holds (was a 500), and the non-finite ones json reads.
    (
        {"cursor": base64.urlsafe_b64encode(json.dumps([10**400, "x"]).encode()).decode()},
        "is not one this server issued",
    ),
    ({"cursor": base64.urlsafe_b64encode(b'[NaN, "x"]').decode()}, "is not one this server issued"),
    ({"cursor": base64.urlsafe_b64encode(b'[-Infinity, "x"]').decode()}, "is not one this server issued"),
]


@pytest.mark.parametrize(("params", "message"), BAD_PARAMETERS)
async def test_bad_parameters_are_400_with_a_message(jp_fetch: Fetch, params: dict[str, str], message: str) -> None:
    reply = await Api(jp_fetch).call("GET", "jobs", params=params, expect=400)
    assert message in reply.body["message"]


async def test_client_mistakes_are_400_404_409_never_500(jp_fetch: Fetch, api: Api, notebooks: Notebooks) -> None:
    kernel_id, tab = await notebooks.open("mistakes.ipynb")
    await tab.run("import time")
    await tab.run("%job -n done 1")
    await tab.run("%job -n sleeper time.sleep(60)")
    settled = {"done": "finished", "sleeper": "running"}
    jobs = by_name(await api.wait_for_jobs(lambda jobs: {job["name"]: job["status"] for job in jobs} == settled))
    await api.wait_for_kernel(kernel_id)
    done, sleeper = jobs["done"]["uid"], jobs["sleeper"]["uid"]

    async def refused(method: str, route: str, code: int, text: str, body: str | None = None, **path: str) -> None:
        reply = await api.call(method, route, expect=code, body=body, **path)
        assert text in reply.body["message"], reply.body

    await refused("GET", "jobs/{uid}", 404, "no job with uid nosuchjob", uid="nosuchjob")
    await refused("POST", "jobs/{uid}/kill", 404, "no job with uid nosuchjob", uid="nosuchjob")
    await refused("DELETE", "jobs/{uid}", 404, "no job with uid nosuchjob", uid="nosuchjob")
    await refused("POST", "jobs/{uid}/kill", 409, "is not running (it is finished)", uid=done)
    await refused("DELETE", "jobs/{uid}", 409, "kill it before removing it", uid=sleeper)
    await refused("POST", "kernels/{kernel_id}/kill", 404, "no running kernel nosuch", kernel_id="nosuch")
    for body, text in [
        ("{not json", "the body is not valid JSON"),
        ("[1, 2]", "the body must be a JSON object"),
        ('{"group": 7}', "group must be a string"),
        ('{"group": ""}', "group must be a string"),
        ('{"groups": "map-0"}', "unknown field(s) groups"),
    ]:
        await refused("POST", "kernels/{kernel_id}/kill", 400, text, body=body, kernel_id=kernel_id)
    for method in ("GET", "POST", "DELETE"):
        body = "" if method == "POST" else None
        reply = await jp_fetch("jupyter-bgjobs", "no", "such", "route", method=method, raise_error=False, body=body)
        assert reply.code == 404
        assert "no route jupyter-bgjobs/no/such/route" in json.loads(reply.body)["message"]
    # Nothing above changed anything.
    assert await tab.value("[j.status for j in jobs.list()]") == ["finished", "running"]

    # The allowed ways, for contrast: remove the finished job, kill the sleeper.
    assert (await api.call("DELETE", "jobs/{uid}", expect=204, uid=done)).body is None
    assert [job["uid"] for job in await api.jobs()] == [sleeper]
    assert await tab.value("[j.name for j in jobs.list()]") == ["sleeper"]
    await refused("GET", "jobs/{uid}", 404, f"no job with uid {done}", uid=done)
    killed = await api.call("POST", "kernels/{kernel_id}/kill", expect=202, body="", kernel_id=kernel_id)
    assert killed.body == {"killed": [sleeper]}


async def test_every_route_refuses_requests_without_credentials(api: Api) -> None:
    routes = [
        ("GET", "jobs"),
        ("DELETE", "jobs"),
        ("GET", "jobs/{uid}"),
        ("DELETE", "jobs/{uid}"),
        ("POST", "jobs/{uid}/kill"),
        ("GET", "kernels"),
        ("POST", "kernels/{kernel_id}/kill"),
    ]
    assert {(verb, f"/jupyter-bgjobs/{route}") for verb, route in routes} == {
        (verb.upper(), path) for path, item in api_paths().items() for verb in item if verb != "parameters"
    }
    for method, route in routes:
        for headers in ({"Authorization": ""}, {"Authorization": "token wrong-token"}):
            reply = await api.call(method, route, expect=None, headers=headers, uid="abc", kernel_id="abc")
            assert reply.status == 403, (method, route, headers, reply)


def api_paths() -> dict[str, Any]:
    from .server_helpers import OPENAPI

    paths: dict[str, Any] = OPENAPI["paths"]
    return paths


def test_openapi_documents_exactly_the_route_table() -> None:
    documented = {path.replace("{uid}", "U").replace("{kernel_id}", "K") for path in api_paths()}
    routed = {
        "/" + url.replace("(?P<uid>[0-9a-zA-Z_-]{1,64})", "U").replace("(?P<kernel_id>[0-9a-zA-Z_-]{1,64})", "K")
        for url, _ in route_table()
        if "(?P<rest>" not in url
    }
    assert documented == routed
