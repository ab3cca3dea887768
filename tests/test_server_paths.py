"""Notebook paths follow the sessions: renamed, moved, and a second session.

The hub reads the session table on every REST read (``paths.py``), so the
staleness the docs promise for REST is none: the next answer after the
session API answered shows the change. Pushed events follow within the
event window.
"""

from __future__ import annotations

import json
from typing import Any

import nbformat

from .server_helpers import Api, Fetch, Notebooks
from .test_server_events import EventStream, latest


async def session_call(jp_fetch: Fetch, method: str, *parts: str, body: dict[str, Any] | None = None) -> Any:
    response = await jp_fetch(
        "api", *parts, method=method, body=json.dumps(body) if body is not None else None, raise_error=True
    )
    return json.loads(response.body) if response.body else None


async def test_paths_follow_renames_moves_and_new_sessions(
    jp_fetch: Fetch, jp_ws_fetch: Any, api: Api, notebooks: Notebooks
) -> None:
    notebook = {"type": "notebook", "content": nbformat.v4.new_notebook()}
    await session_call(jp_fetch, "PUT", "contents", "first.ipynb", body=notebook)
    session = await session_call(
        jp_fetch,
        "POST",
        "sessions",
        body={"path": "first.ipynb", "name": "first.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
    )
    kernel_id = session["kernel"]["id"]
    tab = notebooks.tab(kernel_id)
    await api.wait_for_kernel(kernel_id)
    await tab.run("%job -n done 6*7\n%job -n sleeper __import__('time').sleep(60)")
    jobs = await api.wait_for_jobs(lambda jobs: {job["status"] for job in jobs} == {"finished", "running"})
    assert {job["name"]: job["paths"] for job in jobs} == {"done": ["first.ipynb"], "sleeper": ["first.ipynb"]}
    sleeper_uid = next(job["uid"] for job in jobs if job["name"] == "sleeper")

    stream = EventStream(await jp_ws_fetch("api", "events", "subscribe"))
    try:
        # A rename through the contents API, then the session's path, as JupyterLab does it.
        await session_call(jp_fetch, "PATCH", "contents", "first.ipynb", body={"path": "renamed.ipynb"})
        await session_call(jp_fetch, "PATCH", "sessions", session["id"], body={"path": "renamed.ipynb"})
        jobs = await api.jobs()
        assert {job["name"]: job["paths"] for job in jobs} == {"done": ["renamed.ipynb"], "sleeper": ["renamed.ipynb"]}
        assert [job["uid"] for job in await api.jobs(path="renamed.ipynb")] == [job["uid"] for job in jobs]
        assert (await api.jobs(path="first.ipynb")) == []
        # The bus tells it too, within the event window (the last event of each job).
        await stream.until(
            lambda events: (
                {name: job["paths"] for name, job in latest(events).items()}
                == {"done": ["renamed.ipynb"], "sleeper": ["renamed.ipynb"]}
            )
        )

        # A move to another folder.
        await session_call(jp_fetch, "PUT", "contents", "sub", body={"type": "directory"})
        await session_call(jp_fetch, "PATCH", "contents", "renamed.ipynb", body={"path": "sub/moved.ipynb"})
        await session_call(jp_fetch, "PATCH", "sessions", session["id"], body={"path": "sub/moved.ipynb"})
        (sleeper,) = await api.jobs(status="running")
        assert sleeper["paths"] == ["sub/moved.ipynb"]
        one = await api.get("jobs/{uid}", uid=sleeper_uid)
        assert one["paths"] == ["sub/moved.ipynb"]

        # A second session (a console) on the same kernel shows at once.
        await session_call(
            jp_fetch,
            "POST",
            "sessions",
            body={"path": "console-1", "name": "Console 1", "type": "console", "kernel": {"id": kernel_id}},
        )
        jobs = await api.jobs()
        assert {job["name"]: job["paths"] for job in jobs} == {
            "done": ["console-1", "sub/moved.ipynb"],
            "sleeper": ["console-1", "sub/moved.ipynb"],
        }
        (kernel,) = await api.get("kernels")
        assert kernel["paths"] == ["console-1", "sub/moved.ipynb"]
        assert [job["uid"] for job in await api.jobs(path="console-1")] == [job["uid"] for job in jobs]

    finally:
        stream.socket.close()
        await api.call("POST", "jobs/{uid}/kill", expect=202, uid=sleeper_uid)
