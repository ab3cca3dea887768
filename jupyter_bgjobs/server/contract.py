"""Writes the parts of openapi.json and jobs-event-v1.json that other definitions decide.

Both files are documents people read, so they are kept in the repository and
shipped; their prose is written by hand. What they say about the job record
comes from ``job.schema.json``, and what they say about parameters from the
rules the server validates with (``params.py``, ``cursor.py``, the uid
pattern): ``sync_openapi`` and ``sync_event_schema`` set those parts, and a
test fails while the files on disk differ from what they return. After a
change to the schema or a rule::

    python -m jupyter_bgjobs.server.contract
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .. import protocol, record
from . import params
from .cursor import CURSOR_PATTERN

HERE = Path(__file__).parent
OPENAPI_PATH = HERE / "openapi.json"
EVENT_SCHEMA_PATH = HERE / "jobs-event-v1.json"

# Statuses jupyter_server answers for every route of the extension without
# the route's code running: 403 without valid credentials (it never sends 401
# to API requests) or without the `kernels` permission.
AUTH_ERRORS = {
    "403": "No credentials, or not allowed to use kernels (the `kernels` resource).",
}
_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def job_component() -> dict[str, Any]:
    """The OpenAPI ``Job``: job.schema.json without its own id and its ``x-`` annotations."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: strip(value)
                for key, value in node.items()
                if not key.startswith("x-") and key not in ("$schema", "$id")
            }
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    component: dict[str, Any] = strip(record.JOB_SCHEMA)
    component.pop("title", None)
    return component


def _search_text() -> str:
    names = [field.replace("_", " ").replace(".", " ") for field in record.SEARCH_FIELDS]
    return "Case-insensitive text in any of: " + ", ".join(names) + " (the schema's `x-search`)."


def _query_parameters() -> dict[str, dict[str, Any]]:
    """The schemas (and generated descriptions) of ``GET jobs``'s query parameters."""
    states = ", ".join(protocol.STATES)
    groups = "; ".join(f"{group} ({', '.join(states)})" for group, states in protocol.GROUPS.items())
    return {
        "status": {
            "schema": {"type": "string", "pattern": params.or_empty(params.STATUS_PATTERN)},
            "description": f"A comma list of states ({states}) and of the groups {groups}; "
            "spaces are allowed around the words. Empty or absent: every job.",
        },
        "q": {"schema": {"type": "string"}, "description": _search_text() + " Empty or absent: every job."},
        "limit": {
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": params.MAX_LIMIT,
                "default": params.DEFAULT_LIMIT,
            },
            "description": "Jobs per page (ASCII digits).",
        },
        "cursor": {
            "schema": {"type": "string", "pattern": params.or_empty(CURSOR_PATTERN)},
            "description": "`next_cursor` of the previous page (any string of this form is a position). "
            "Empty or absent: the first page.",
        },
    }


# The credentials jupyter_server takes: its token, or a browser session's
# cookie (with the XSRF header for POST and DELETE). Either will do, so no
# one header is required (and a request with neither gets 403).
SECURITY: list[dict[str, list[str]]] = [{"token": []}, {"session": [], "xsrf": []}]
SECURITY_SCHEMES = {
    "token": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`token <the server's token>`.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "username-localhost-8888",
        "description": "The login cookie of a browser session; its name carries the server's host and port "
        "(`username-<host>-<port>`, dots and colons as dashes).",
    },
    "xsrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-XSRFToken",
        "description": "With the session cookie, on POST and DELETE: the value of the `_xsrf` cookie.",
    },
}


def sync_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every derived part set from the definitions it states."""
    document = copy.deepcopy(document)
    document["security"] = copy.deepcopy(SECURITY)
    document["components"]["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    schemas = document["components"]["schemas"]
    schemas["Job"] = job_component()
    schemas["KillRequest"]["properties"]["group"] = {
        "type": ["string", "null"],
        "minLength": 1,
        "maxLength": protocol.MAX_GROUP,
        "description": "Only the jobs of this `jobs.map` group.",
    }
    schemas["KillRequest"]["additionalProperties"] = False
    assert list(schemas["KillRequest"]["properties"]) == list(params.KILL_BODY_FIELDS)
    query = _query_parameters()
    for item in document["paths"].values():
        for parameter in item.get("parameters", []):
            if parameter["in"] == "path":  # job uids and kernel ids
                parameter["schema"] = {"type": "string", "pattern": f"^{protocol.UID_REGEX}$"}
        for verb, operation in item.items():
            if verb == "parameters":
                continue
            for parameter in operation.get("parameters", []):
                parameter.update(copy.deepcopy(query.get(parameter["name"], {})))
            for status, description in AUTH_ERRORS.items():
                operation["responses"][status] = {"description": description, "content": copy.deepcopy(_ERROR_BODY)}
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return document


def sync_event_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The event schema with each changed job's required fields those of the Job."""
    schema = copy.deepcopy(schema)
    schema["properties"]["changed"]["items"]["required"] = list(record.JOB_SCHEMA["required"])
    return schema


def dump(document: dict[str, Any]) -> str:
    """The JSON text of a document as the repository keeps it."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def stale() -> list[Path]:
    """The files whose derived parts are not what the definitions say."""
    pairs = ((OPENAPI_PATH, sync_openapi), (EVENT_SCHEMA_PATH, sync_event_schema))
    return [path for path, sync in pairs if dump(sync(json.loads(path.read_text("utf-8")))) != path.read_text("utf-8")]


def main() -> None:
    """Rewrite the derived parts of both files in place."""
    for path, sync in ((OPENAPI_PATH, sync_openapi), (EVENT_SCHEMA_PATH, sync_event_schema)):
        path.write_text(dump(sync(json.loads(path.read_text("utf-8")))), "utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
