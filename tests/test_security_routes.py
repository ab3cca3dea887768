"""Every route the extension registers refuses strangers and cross-site writes.

The routes come from the server's own handler table, not from a list kept
here, so a route added later cannot escape these checks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError
from tornado.routing import PathMatches

from .server_helpers import Fetch

PREFIX = "/jupyter-bgjobs/"
VERBS = ("get", "post", "put", "patch", "delete")
SAMPLE = {"uid": "0123456789abcdef0123456789abcdef", "kernel_id": "0000-no-such-kernel", "rest": "no/such/route"}


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}}}


def _rules(router: Any) -> list[Any]:
    """Every rule of a tornado router, with the nested (per-host) routers walked."""
    found = []
    for rule in getattr(router, "rules", []):
        found.append(rule)
        found.extend(_rules(rule.target))
    return found


def extension_routes(web_app: Any, base_url: str) -> list[tuple[str, list[str]]]:
    """(concrete path, verbs the handler implements) for every route under our prefix."""
    routes = []
    for rule in _rules(web_app.default_router) + _rules(web_app.wildcard_router):
        matcher = rule.matcher
        if not isinstance(matcher, PathMatches) or PREFIX not in matcher.regex.pattern:
            continue
        if not isinstance(rule.target, type):
            continue
        pattern = matcher.regex.pattern.rstrip("$")
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE[m.group(1)], pattern)
        handler = rule.target
        verbs = [verb for verb in VERBS if getattr(handler, verb) is not getattr(handler.__mro__[-2], verb, None)]
        routes.append((path, verbs))
    assert routes, "the extension registered no routes"
    return routes


def test_the_extension_registers_its_routes(jp_serverapp: Any, jp_base_url: str) -> None:
    paths = sorted(path for path, _ in extension_routes(jp_serverapp.web_app, jp_base_url))
    assert paths == sorted(
        f"{jp_base_url}jupyter-bgjobs/{tail}"
        for tail in (
            "jobs",
            f"jobs/{SAMPLE['uid']}",
            f"jobs/{SAMPLE['uid']}/kill",
            "kernels",
            f"kernels/{SAMPLE['kernel_id']}/kill",
            SAMPLE["rest"],  # the catch-all: a JSON 404 for anything else under the prefix
        )
    )


async def test_every_verb_refuses_requests_without_credentials(
    jp_serverapp: Any, jp_fetch: Fetch, jp_base_url: str
) -> None:
    refused = []
    for path, verbs in extension_routes(jp_serverapp.web_app, jp_base_url):
        for verb in verbs:
            body = "{}" if verb in ("post", "put", "patch") else None
            with pytest.raises(HTTPClientError) as error:
                await jp_fetch(
                    path[len(jp_base_url) :],
                    method=verb.upper(),
                    body=body,
                    headers={"Authorization": ""},
                    follow_redirects=False,
                )
            refused.append((verb, path, error.value.code))
    assert all(code in (401, 403) for _, _, code in refused), refused


async def test_cookie_session_writes_need_the_xsrf_token(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> None:
    # A browser logs in once with the token and then sends only its cookie.
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(f"{jp_base_url}api/status?token={token}", raise_error=True)
    cookies = [value.split(";", 1)[0] for value in login.headers.get_list("Set-Cookie")]
    assert cookies, "the server set no login cookie"
    cookie = "; ".join(cookies)

    # The cookie alone does identify the user: reading works...
    answer = await http_server_client.fetch(f"{jp_base_url}jupyter-bgjobs/jobs", headers={"Cookie": cookie})
    assert answer.code == 200

    # ...but a state-changing request without the XSRF token is refused.
    for path, verbs in extension_routes(jp_serverapp.web_app, jp_base_url):
        for verb in verbs:
            if verb == "get":
                continue
            response = await http_server_client.fetch(
                path,
                method=verb.upper(),
                body="{}" if verb != "delete" else None,
                headers={"Cookie": cookie},
                raise_error=False,
                follow_redirects=False,
            )
            assert response.code == 403, (verb, path, response.code)
