"""The job record, read from its one definition: ``job.schema.json`` (JSON Schema 2020-12).

Everything else that knows the record's fields is derived from that file or
checked against it by a test: the wire record that ``protocol`` sanitizes
(the fields, their types and their limits, here), the REST Job of
``server/model.py``, the OpenAPI document and the event schema
(``server/contract.py`` writes them), the REST ``q`` search and the docs'
field tables. Adding a field is a change to the schema plus the code that
fills it and shows it.

The schema describes the Job as REST serves it. The wire record (kernel to
server) is the same but for two rules, written in the schema's ``x-wire``:
properties marked ``"x-server": true`` are added by the server, and
``date-time`` properties travel as POSIX seconds.

Both the kernel and the server import this module: json and
importlib.resources only.
"""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

JOB_SCHEMA: dict[str, Any] = json.loads(
    importlib.resources.files(__package__ or "jupyter_bgjobs").joinpath("job.schema.json").read_text("utf-8")
)
PROPERTIES: dict[str, dict[str, Any]] = JOB_SCHEMA["properties"]

# Field names, in the schema's order: every REST field; the wire fields (the
# kernel's); the fields the server adds; times (ISO 8601 in REST, POSIX
# seconds on the wire); what a text search looks in (REST `q`, the panel).
REST_FIELDS: tuple[str, ...] = tuple(PROPERTIES)
SERVER_FIELDS: tuple[str, ...] = tuple(name for name, prop in PROPERTIES.items() if prop.get("x-server"))
WIRE_FIELDS: tuple[str, ...] = tuple(name for name in REST_FIELDS if name not in SERVER_FIELDS)
TIME_FIELDS: tuple[str, ...] = tuple(name for name, prop in PROPERTIES.items() if prop.get("format") == "date-time")
SEARCH_FIELDS: tuple[str, ...] = tuple(JOB_SCHEMA["x-search"]["fields"])

STATES: tuple[str, ...] = tuple(PROPERTIES["status"]["enum"])
GROUPS: dict[str, tuple[str, ...]] = {
    group: tuple(states) for group, states in PROPERTIES["status"]["x-groups"].items()
}
KINDS: tuple[str, ...] = tuple(PROPERTIES["kind"]["enum"])

# What a uid may be made of (a JSON Schema pattern, anchored): unanchored, it
# also builds the REST routes (`jobs/{uid}`).
UID_REGEX: str = PROPERTIES["uid"]["pattern"].removeprefix("^").removesuffix("$")

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (float, int),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def json_types(prop: dict[str, Any]) -> list[str]:
    """The JSON types a property allows (an ``enum`` of strings is a string)."""
    kinds = prop.get("type")
    if kinds is None and all(isinstance(value, str) for value in prop.get("enum", [None])):
        return ["string"]
    if kinds is None:
        raise ValueError(f"job.schema.json: a property without a type: {prop}")
    return [kinds] if isinstance(kinds, str) else list(kinds)


def wire_types(prop: dict[str, Any]) -> tuple[type, ...]:
    """The Python types of a property in the wire record (times are POSIX seconds)."""
    types: list[type] = []
    for kind in json_types(prop):
        if kind == "string" and prop.get("format") == "date-time":
            kind = "number"
        types.extend(_JSON_TYPES[kind])
    return tuple(types)


def max_length(*path: str) -> int:
    """The ``maxLength`` of a property, nested ones by path (``"error", "ename"``)."""
    prop: dict[str, Any] = {"properties": PROPERTIES}
    for name in path:
        prop = prop["items"] if name == "items" else prop["properties"][name]
    limit = prop["maxLength"]
    assert isinstance(limit, int)
    return limit


# The wire record's fields and their Python types.
JOB_FIELDS: dict[str, tuple[type, ...]] = {name: wire_types(PROPERTIES[name]) for name in WIRE_FIELDS}

# Top-level wire strings that are clipped to their maxLength (uids are
# checked against their pattern instead): field -> (limit, keep the end?).
CLIPPED: dict[str, tuple[int, bool]] = {
    name: (PROPERTIES[name]["maxLength"], PROPERTIES[name].get("x-clip") == "tail")
    for name in WIRE_FIELDS
    if "maxLength" in PROPERTIES[name] and "pattern" not in PROPERTIES[name]
}
