"""Authorization: every route is the "kernels" resource, read for GET, write for the rest."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_bgjobs.server.handlers import route_table

from .server_helpers import Api


@pytest.fixture
def jp_server_auth_resources(jp_server_auth_core_resources: dict[str, str]) -> dict[str, str]:
    return {**jp_server_auth_core_resources, **{f"/{url}": "kernels" for url, _ in route_table()}}


@pytest.fixture
def reader_only(jp_server_authorizer: Any) -> Any:
    jp_server_authorizer.permissions = {"actions": ["read"], "resources": ["kernels", "sessions"]}
    return jp_server_authorizer


@pytest.fixture
def jp_server_config(server_kernelspecs: None, reader_only: Any) -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}, "authorizer_class": reader_only}}


async def test_routes_are_authorized_as_kernels_read_or_write(api: Api) -> None:
    # The test authorizer fails the request (500) unless it is asked about the
    # "kernels" resource with the action of the method; it allows reading only.
    assert (await api.get("jobs"))["jobs"] == []
    assert await api.get("kernels") == []
    await api.call("GET", "jobs/{uid}", expect=404, uid="nosuchjob")
    for method, route in [("POST", "jobs/{uid}/kill"), ("DELETE", "jobs/{uid}"), ("POST", "kernels/{kernel_id}/kill")]:
        reply = await api.call(method, route, expect=None, uid="abc", kernel_id="abc")
        assert reply.status == 403, (method, route, reply)
