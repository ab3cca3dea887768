"""Every route the extension registers refuses strangers and cross-site writes.

The routes come from the server's own handler table, not from a list kept
here, so a route added later cannot escape these checks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from tornado.httpclient import HTTPClientError
from tornado.routing import PathMatches

from .server_helpers import Api, Fetch, Notebooks

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


@dataclass
class Browser:
    """A browser that logged in through the login form: it sends cookies, never the token."""

    login_cookie: str  # the identity provider's login cookie, "name=value"
    xsrf: str  # the value of the `_xsrf` cookie the server set


def cookies_of(response: Any) -> dict[str, str]:
    pairs = (value.split(";", 1)[0].split("=", 1) for value in response.headers.get_list("Set-Cookie"))
    return {name: value for name, value in pairs}


async def log_in(serverapp: Any, client: Any, base_url: str) -> Browser:
    """Log in as a person does: open the login page, post the token into its form."""
    page = await client.fetch(f"{base_url}login", raise_error=False, follow_redirects=False)
    assert page.code == 200, page.code
    xsrf = cookies_of(page)["_xsrf"]
    form = urlencode({"_xsrf": xsrf, "password": serverapp.identity_provider.token})
    answer = await client.fetch(
        f"{base_url}login",
        method="POST",
        body=form,
        headers={"Cookie": f"_xsrf={xsrf}", "Content-Type": "application/x-www-form-urlencoded"},
        raise_error=False,
        follow_redirects=False,
    )
    assert answer.code == 302, answer.code  # logged in: sent on to the next page
    login = {name: value for name, value in cookies_of(answer).items() if name != "_xsrf"}
    assert len(login) == 1, login
    [(name, value)] = login.items()
    return Browser(login_cookie=f"{name}={value}", xsrf=xsrf)


def write_routes(serverapp: Any, base_url: str) -> list[tuple[str, str]]:
    """(verb, path) of every state-changing verb the extension's handlers implement."""
    writes = [
        (verb.upper(), path)
        for path, verbs in extension_routes(serverapp.web_app, base_url)
        for verb in verbs
        if verb != "get"
    ]
    assert sorted((verb, path.split(PREFIX, 1)[1]) for verb, path in writes) == [
        ("DELETE", "jobs"),
        ("DELETE", f"jobs/{SAMPLE['uid']}"),
        ("DELETE", SAMPLE["rest"]),
        ("POST", f"jobs/{SAMPLE['uid']}/kill"),
        ("POST", f"kernels/{SAMPLE['kernel_id']}/kill"),
        ("POST", SAMPLE["rest"]),
    ]
    return writes


# What each route answers once a request gets through authentication and XSRF:
# the samples name no job or kernel, so the handler's own 404 (a clear without
# a kernel or path: its own 400).
HANDLER_STATUS = {"jobs": 400}
HANDLER_ANSWER = {
    "jobs": "give kernel_id or path (or both)",
    "jobs/{uid}/kill": f"no job with uid {SAMPLE['uid']}",
    "jobs/{uid}": f"no job with uid {SAMPLE['uid']}",
    "kernels/{kernel_id}/kill": f"no running kernel {SAMPLE['kernel_id']}",
    "{rest}": f"no route jupyter-bgjobs/{SAMPLE['rest']}",
}


def handler_answer(path: str) -> str:
    tail = path.split(PREFIX, 1)[1]
    for template, message in HANDLER_ANSWER.items():
        if template.format(**SAMPLE) == tail:
            return message
    raise AssertionError(f"no expected answer for {path}")


async def test_cookie_session_writes_need_the_xsrf_token(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> None:
    browser = await log_in(jp_serverapp, http_server_client, jp_base_url)

    async def send(verb: str, path: str, cookies: list[str], headers: dict[str, str] | None = None) -> Any:
        return await http_server_client.fetch(
            path,
            method=verb,
            body="{}" if verb in ("POST", "PUT", "PATCH") else None,
            headers={"Cookie": "; ".join(cookies), **(headers or {})},
            raise_error=False,
            follow_redirects=False,
        )

    # The cookie alone does identify the user: reading works...
    answer = await send("GET", f"{jp_base_url}jupyter-bgjobs/jobs", [browser.login_cookie])
    assert answer.code == 200
    assert json.loads(answer.body)["jobs"] == []

    refused: dict[str, list[Any]] = {}
    for verb, path in write_routes(jp_serverapp, jp_base_url):
        # ...but a state-changing request needs the XSRF token, in the header
        # and matching the `_xsrf` cookie: a page of another site can make the
        # browser send the cookies, not read them to copy one into a header.
        attempts = {
            "no token": ([browser.login_cookie], {}),
            "cookie without header": ([browser.login_cookie, f"_xsrf={browser.xsrf}"], {}),
            "header without cookie": ([browser.login_cookie], {"X-XSRFToken": browser.xsrf}),
            "header not the cookie's": (
                [browser.login_cookie, f"_xsrf={browser.xsrf}"],
                {"X-XSRFToken": "2|00000000|" + "0" * 32 + "|1700000000"},
            ),
        }
        for attempt, (cookies, headers) in attempts.items():
            response = await send(verb, path, cookies, headers)
            refused.setdefault(attempt, []).append((verb, path, response.code))
            assert response.code == 403, (attempt, verb, path, response.code, response.body[:200])
            assert "xsrf" in json.loads(response.body)["message"].lower(), (attempt, verb, path, response.body[:200])

        # With both, the request gets through to the handler, which answers for itself.
        response = await send(
            verb, path, [browser.login_cookie, f"_xsrf={browser.xsrf}"], {"X-XSRFToken": browser.xsrf}
        )
        assert response.code == HANDLER_STATUS.get(path.split(PREFIX, 1)[1], 404), (verb, path, response.code)
        assert handler_answer(path) in json.loads(response.body)["message"], (verb, path, response.body[:200])
    assert set(refused) == {"no token", "cookie without header", "header without cookie", "header not the cookie's"}


async def test_cookie_session_with_the_xsrf_token_changes_state(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str, api: Api, notebooks: Notebooks
) -> None:
    # The positive case on a real job: the browser's request, with its token,
    # removes a finished job (and without it, does not).
    kernel_id, tab = await notebooks.open("xsrf.ipynb")
    await tab.run("%job -n done 1")
    [job] = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["finished"])
    await api.wait_for_kernel(kernel_id)
    browser = await log_in(jp_serverapp, http_server_client, jp_base_url)
    path = f"{jp_base_url}jupyter-bgjobs/jobs/{job['uid']}"
    cookies = f"{browser.login_cookie}; _xsrf={browser.xsrf}"
    refused = await http_server_client.fetch(path, method="DELETE", headers={"Cookie": cookies}, raise_error=False)
    assert refused.code == 403
    assert [other["uid"] for other in await api.jobs()] == [job["uid"]]
    removed = await http_server_client.fetch(
        path, method="DELETE", headers={"Cookie": cookies, "X-XSRFToken": browser.xsrf}, raise_error=False
    )
    assert removed.code == 204
    assert await api.jobs() == []
    assert await tab.value("len(jobs.list())") == 0
