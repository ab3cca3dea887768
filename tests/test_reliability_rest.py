"""Property-based fuzzing of the REST API, driven by the OpenAPI document the package ships.

For every route and verb of ``openapi.json``, Hypothesis generates path
parameters, query parameters (the documented ones, with valid and invalid
values, and unknown ones) and request bodies (none, JSON values of every
shape, bodies that fit the request schema, bytes that are not JSON) and sends
them to a real server with the extension, whose kernel has jobs that
finished, failed and still run. Whatever the request:

- the answer is never a 5xx;
- an error is JSON, ``{"message": <non-empty text>, ...}``;
- every status is one the document lists for the operation, and every body
  fits the document's schema for it (``check_against_openapi``).

The runs are reproducible (``derandomize``: a fixed seed), bounded
(``CASES`` a route and verb) and write no example database.
"""

from __future__ import annotations

import asyncio
import base64
import json
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_bgjobs import protocol

from .server_helpers import OPENAPI, Api, Notebooks, check_against_openapi

CASES = 40
VERBS = ("get", "post", "put", "patch", "delete")
PREFIX = "/jupyter-bgjobs/"
# Reads first, then the verbs that change (and remove) the jobs the reads show;
# clearing a whole history last, so that removing one job still finds jobs to remove.
ORDER = {"get": 0, "post": 1, "delete": 2}
LAST = ("/jupyter-bgjobs/jobs", "delete")

OPERATIONS = sorted(
    (
        (path, verb, operation)
        for path, item in OPENAPI["paths"].items()
        for verb, operation in item.items()
        if verb in VERBS
    ),
    key=lambda op: (ORDER.get(op[1], 1), (op[0], op[1]) == LAST, op[0]),
)

FUZZ_SETTINGS = settings(
    max_examples=CASES,
    derandomize=True,  # a fixed seed: the same cases every run
    database=None,  # nothing written into the repository
    deadline=None,  # a request may wait on the kernel; no timing assertions
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text that an HTTP request can carry (no lone surrogates), from every other category.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its ``$ref`` (into this document) followed."""
    while "$ref" in schema:
        node: Any = OPENAPI
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def fitting(schema: dict[str, Any], known: list[Any]) -> st.SearchStrategy[Any]:
    """JSON values that fit ``schema`` (the subset of JSON Schema the document uses)."""
    schema = resolve(schema)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema.get("type", "string")
    choices: list[st.SearchStrategy[Any]] = []
    for kind in types if isinstance(types, list) else [types]:
        if kind == "null":
            choices.append(st.none())
        elif kind == "string":
            pattern = schema.get("pattern")
            texts = st.from_regex(pattern, fullmatch=True) if pattern else TEXT
            choices.append(st.sampled_from(known) | texts if known else texts)
        elif kind == "integer":
            choices.append(st.integers(schema.get("minimum"), schema.get("maximum")))
        elif kind == "boolean":
            choices.append(st.booleans())
        elif kind == "object":
            properties = {name: fitting(sub, known) for name, sub in schema.get("properties", {}).items()}
            required = set(schema.get("required", []))
            choices.append(
                st.fixed_dictionaries(
                    {name: value for name, value in properties.items() if name in required},
                    optional={name: value for name, value in properties.items() if name not in required},
                )
            )
    return st.one_of(choices)


@dataclass
class World:
    """What the server holds while the fuzzing runs: real ids and values for the success paths."""

    kernel_id: str
    uids: list[str]
    cursors: list[str]
    paths: list[str] = field(default_factory=lambda: ["fuzz.ipynb"])
    groups: list[str] = field(default_factory=lambda: ["sleepers"])

    def known(self, name: str) -> list[Any]:
        return {
            "uid": self.uids,
            "kernel_id": [self.kernel_id],
            "path": self.paths,
            "group": self.groups,
            "cursor": self.cursors,
            "status": [*protocol.STATES, *protocol.GROUPS, "failed,running", "dead, finished"],
            "q": ["6*7", "SLEEP", "division", "fuzz.ipynb"],
        }.get(name, [])


def forged_cursors() -> st.SearchStrategy[str]:
    """Cursors of the right encoding that this server never issued."""
    raw = st.one_of(
        JSON_VALUES,
        st.tuples(st.integers() | st.floats(), TEXT).map(list),
        st.just([10**400, "x"]),  # a number no float can hold
    )
    return raw.map(lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("="))


def valid_values(parameter: dict[str, Any], world: World) -> st.SearchStrategy[str]:
    """Values that fit a parameter's schema, among them ones the server knows (ids, cursors, paths)."""
    return fitting(parameter["schema"], world.known(parameter["name"])).map(str)


# Integers that a quick check (str.isdigit) takes and the API does not:
# digits of other scripts, superscripts, signs, spaces, other notations.
TRICKY_NUMBERS = ["²", "١٠", "1²", "٣", " 5", "+5", "5 ", "1e3", "0x10", "1_0", "-0", "00", "10" * 200]


def invalid_values(parameter: dict[str, Any]) -> st.SearchStrategy[str]:
    """Values of the wrong type, out of range or of the wrong form for a parameter."""
    schema = resolve(parameter["schema"])
    choices: list[st.SearchStrategy[str]] = [TEXT, st.integers().map(str), st.floats().map(str)]
    if schema.get("type") == "integer":
        outside = st.integers(max_value=schema.get("minimum", 0) - 1) | st.integers(
            min_value=schema.get("maximum", 0) + 1
        )
        choices += [st.sampled_from(TRICKY_NUMBERS), outside.map(str), st.text("0123456789²١٣+- .e", max_size=6)]
    if parameter["name"] == "cursor":
        choices.append(forged_cursors())
    return st.one_of(choices)


def exploded(parameter: dict[str, Any]) -> list[dict[str, Any]]:
    """A query parameter as the query string carries it: an exploded object is one parameter per property."""
    schema = resolve(parameter["schema"])
    if schema.get("type") != "object" or not parameter.get("explode", True):
        return [parameter]
    return [{"name": name, "in": "query", "schema": sub} for name, sub in schema["properties"].items()]


@dataclass
class Case:
    path: str  # the concrete path under the server's base URL
    params: dict[str, str]
    body: bytes | None


def cases(template: str, verb: str, operation: dict[str, Any], world: World) -> st.SearchStrategy[Case]:
    """Requests for one operation of the document."""
    item = OPENAPI["paths"][template]
    parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
    in_path = {p["name"]: st.one_of(valid_values(p, world), invalid_values(p)) for p in parameters if p["in"] == "path"}
    in_query = [q for p in parameters if p["in"] == "query" for q in exploded(p)]
    documented = {p["name"] for p in in_query}
    unknown = st.dictionaries(
        st.text(string.ascii_letters + "_[]", min_size=1, max_size=12).filter(lambda name: name not in documented),
        TEXT,
        max_size=2,
    )
    # Valid values for any of the documented parameters, and at most one
    # invalid one: a fault is then not hidden behind another one.
    valid = st.fixed_dictionaries({}, optional={p["name"]: valid_values(p, world) for p in in_query})
    faulty: st.SearchStrategy[dict[str, str]] = st.just({})
    if in_query:
        faulty = st.one_of(
            st.just({}), *(invalid_values(p).map(lambda value, name=p["name"]: {name: value}) for p in in_query)
        )
    query = st.tuples(unknown, valid, faulty).map(lambda parts: {**parts[0], **parts[1], **parts[2]})

    def concrete(values: dict[str, str]) -> str:
        path = template
        for name, value in values.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return path.lstrip("/")

    bodies: st.SearchStrategy[bytes | None] = st.none()
    if verb in ("post", "delete"):
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        shapes = [
            st.none(),
            st.just(b""),
            JSON_VALUES.map(lambda value: json.dumps(value).encode()),
            st.binary(max_size=40),  # mostly not JSON, nor UTF-8
        ]
        if schema is not None:
            shapes.append(fitting(schema, world.groups).map(lambda value: json.dumps(value).encode()))
        bodies = st.one_of(shapes)
    return st.builds(Case, st.fixed_dictionaries(in_path).map(concrete), query, bodies)


async def make_world(api: Api, notebooks: Notebooks) -> World:
    """A kernel whose jobs have finished, failed and still run (one a map group)."""
    kernel_id, tab = await notebooks.open("fuzz.ipynb")
    await tab.run("import time, jupyter_bgjobs")
    await tab.run("%job -n answer 6*7")
    await tab.run("%job -n broken 1/0")
    await tab.run("%job -n chatty [print(i) or jupyter_bgjobs.report(i + 1, 3, 'step') for i in range(3)]")
    await tab.run("%job -n sleeper time.sleep(600)")
    await tab.run("group = jobs.map(time.sleep, [600, 600], workers=2, name='sleepers')")
    expected = {
        "answer": "finished",
        "broken": "failed",
        "chatty": "finished",
        "sleeper": "running",
        "sleepers [1/2]": "running",
        "sleepers [2/2]": "running",
    }
    jobs = await api.wait_for_jobs(lambda jobs: {job["name"]: job["status"] for job in jobs} == expected)
    await api.wait_for_kernel(kernel_id)
    first = await api.get("jobs", limit="2")
    second = await api.get("jobs", limit="2", cursor=first["next_cursor"])
    world = World(kernel_id, [job["uid"] for job in jobs], [first["next_cursor"], second["next_cursor"]])
    return world


Send = Callable[[str, Case], Any]


def fuzz_operation(template: str, verb: str, operation: dict[str, Any], world: World, send: Send) -> list[int]:
    """Run the cases of one operation (in a worker thread); the statuses seen."""
    seen: list[int] = []
    route = template[len(PREFIX) :]

    @FUZZ_SETTINGS
    @given(case=cases(template, verb, operation, world))
    def check(case: Case) -> None:
        response = send(verb.upper(), case)
        status = response.code
        where = f"{verb.upper()} {case.path} {case.params} body={case.body!r:.80}: {status} {response.body[:300]!r}"
        assert status < 500, where
        body = None
        if response.body:
            assert response.headers["Content-Type"] == "application/json", where
            body = json.loads(response.body.decode("utf-8"))
        if status >= 400:
            assert isinstance(body, dict), where
            assert isinstance(body.get("message"), str), where
            assert body["message"].strip(), where
        try:
            check_against_openapi(verb, route, status, body)
        except Exception as error:
            raise AssertionError(f"{where}: {error}") from None
        seen.append(status)

    check()
    return seen


# What each operation must reach besides its errors: the success paths, not only the refusals.
SUCCESSES = {
    "GET /jupyter-bgjobs/jobs": [200],
    "GET /jupyter-bgjobs/jobs/{uid}": [200],
    "GET /jupyter-bgjobs/kernels": [200],
    "POST /jupyter-bgjobs/jobs/{uid}/kill": [202],
    "POST /jupyter-bgjobs/kernels/{kernel_id}/kill": [202],
    "DELETE /jupyter-bgjobs/jobs/{uid}": [204],
    "DELETE /jupyter-bgjobs/jobs": [200],
}


def test_the_fuzzing_covers_every_operation_of_the_document() -> None:
    assert sorted(f"{verb.upper()} {template}" for template, verb, _ in OPERATIONS) == sorted(SUCCESSES)


async def test_every_route_and_verb_of_the_document_survives_fuzzing(
    http_server_client: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    api: Api,
    notebooks: Notebooks,
    subtests: pytest.Subtests,
) -> None:
    # One world (a kernel and its jobs) serves every operation, in order: reads,
    # then kills, then removals. Each operation is a subtest of its own name, so a
    # failure says which operation broke which property.
    world = await make_world(api, notebooks)
    loop = asyncio.get_running_loop()

    def send(method: str, case: Case) -> Any:
        # Called from Hypothesis in a worker thread; the server runs on this
        # test's event loop, which stays free while the thread waits.
        url = f"{jp_base_url}{case.path}"
        if case.params:
            url += "?" + urlencode(case.params)

        async def fetch() -> Any:
            return await http_server_client.fetch(
                url,
                method=method,
                body=case.body if case.body is not None or method != "POST" else b"",
                headers=dict(jp_auth_header),
                raise_error=False,
                follow_redirects=False,
                allow_nonstandard_methods=True,  # a body on DELETE too
                request_timeout=60,
            )

        return asyncio.run_coroutine_threadsafe(fetch(), loop).result(timeout=90)

    statuses: dict[str, list[int]] = {}
    started = time.monotonic()
    for template, verb, operation in OPERATIONS:
        name = f"{verb.upper()} {template}"
        with subtests.test(f"{name}: never 5xx, errors as JSON, statuses and bodies as documented"):
            seen = await loop.run_in_executor(None, fuzz_operation, template, verb, operation, world, send)
            statuses[name] = seen
        with subtests.test(f"{name}: a bounded number of cases, its success paths reached"):
            seen = statuses.get(name, [])
            # (Hypothesis may stop short of max_examples when it runs out of distinct cases.)
            assert CASES // 2 <= len(seen) <= CASES, len(seen)
            assert sorted({code for code in seen if code < 300}) == SUCCESSES[name], seen
    elapsed = time.monotonic() - started

    # Every operation of the document was fuzzed.
    assert set(statuses) == set(SUCCESSES)
    print(f"fuzzed {len(statuses)} operations x {CASES} cases in {elapsed:.1f} s")
