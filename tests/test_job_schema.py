"""The job record has one definition, ``jupyter_bgjobs/job.schema.json``; every other form
of it is derived from that file or checked against it here.

Adding a field to the schema without carrying it in a layer fails one of
these tests: the kernel's wire record (``Job.to_wire``), the protocol's
validation, the REST view, openapi.json, the event schema, and the field
tables of docs/protocol.md and docs/rest.md. The last test adds a field to a
copy of the schema and checks that each of those layers is then reported.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from jupyter_bgjobs import protocol, record
from jupyter_bgjobs.server import contract
from jupyter_bgjobs.server.model import job_to_rest
from jupyter_bgjobs.server.query import Query
from jupyter_bgjobs.server.store import JobStore

from .kernel_session import KernelSession

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = record.JOB_SCHEMA
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
OPENAPI = json.loads(contract.OPENAPI_PATH.read_text())
EVENT_SCHEMA = json.loads(contract.EVENT_SCHEMA_PATH.read_text())


def wire_fields(properties: dict[str, Any]) -> set[str]:
    return {name for name, prop in properties.items() if not prop.get("x-server")}


# --- each layer, as a check of a schema's properties -------------------------------


def openapi_gap(properties: dict[str, Any]) -> set[str]:
    job = OPENAPI["components"]["schemas"]["Job"]
    return set(properties) ^ set(job["properties"]) | set(properties) ^ set(job["required"])


def event_schema_gap(properties: dict[str, Any]) -> set[str]:
    return set(properties) ^ set(EVENT_SCHEMA["properties"]["changed"]["items"]["required"])


def table_fields(doc: str) -> set[str]:
    """The fields named (in backquotes) in the first column of a doc's job field table."""
    lines = (ROOT / "docs" / doc).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\|\s*field\s*\|", line))
    fields: set[str] = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        fields.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return fields


def protocol_doc_gap(properties: dict[str, Any]) -> set[str]:
    return wire_fields(properties) ^ table_fields("protocol.md")


def rest_doc_gap(properties: dict[str, Any]) -> set[str]:
    return set(properties) ^ table_fields("rest.md")


def wire_gap(properties: dict[str, Any], wire_records: list[dict[str, Any]]) -> set[str]:
    gap: set[str] = set()
    for wire in wire_records:
        gap |= wire_fields(properties) ^ set(wire)
    return gap


# --- the real schema -----------------------------------------------------------


def test_the_schema_is_json_schema_2020_12_with_the_annotations_the_code_reads() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert record.SERVER_FIELDS == ("kernel_id", "elapsed", "paths")
    assert record.TIME_FIELDS == ("created", "started", "ended")
    assert record.SEARCH_FIELDS == ("name", "code", "group", "uid", "kernel_id", "status", "error.evalue", "paths")
    assert protocol.STATES == ("queued", "running", "finished", "failed", "killed", "lost")
    assert protocol.GROUPS == {
        "running": ("queued", "running"),
        "finished": ("finished",),
        "dead": ("failed", "killed", "lost"),
    }
    # Every state is in exactly one group.
    assert sorted(state for states in protocol.GROUPS.values() for state in states) == sorted(protocol.STATES)


def test_the_protocol_sanitizes_against_the_schema() -> None:
    assert list(protocol.JOB_FIELDS) == [name for name in SCHEMA["properties"] if name not in record.SERVER_FIELDS]
    assert protocol.JOB_FIELDS["created"] == (float, int)  # POSIX seconds on the wire
    assert protocol.JOB_FIELDS["started"] == (float, int, type(None))
    assert protocol.JOB_FIELDS["kind"] == (str,)
    assert protocol.JOB_FIELDS["number"] == (int,)
    assert (protocol.MAX_CODE, protocol.MAX_NAME, protocol.MAX_REPR, protocol.MAX_OUTPUT_TAIL) == (
        20_000,
        200,
        2_000,
        8_000,
    )
    assert (protocol.MAX_WHERE, protocol.MAX_UID, protocol.MAX_TRACEBACK) == (500, 64, 40_000)
    assert record.CLIPPED == {
        "name": (200, False),
        "code": (20_000, False),
        "group": (200, False),
        "result_repr": (2_000, False),
        "output_tail": (8_000, True),
        "blocked_in": (500, False),
    }


def test_openapi_and_the_event_schema_say_what_the_definitions_say() -> None:
    assert contract.stale() == [], "run `python -m jupyter_bgjobs.server.contract` and commit the result"
    assert OPENAPI["components"]["schemas"]["Job"] == contract.job_component()
    assert openapi_gap(SCHEMA["properties"]) == set()
    assert event_schema_gap(SCHEMA["properties"]) == set()


def test_the_docs_tables_name_every_field() -> None:
    assert protocol_doc_gap(SCHEMA["properties"]) == set()
    assert rest_doc_gap(SCHEMA["properties"]) == set()


def test_the_docs_state_the_schemas_limits() -> None:
    """docs/protocol.md says each limit of the wire record, as the schema has it."""
    text = (ROOT / "docs" / "protocol.md").read_text()
    rows = {
        field: line
        for line in text.splitlines()
        if line.startswith("| `")
        for field in re.findall(r"`([a-z_]+)`", line.split("|")[1])
    }
    for field, (limit, _) in record.CLIPPED.items():
        assert f"{limit:,}".replace(",", " ") in rows[field], (field, limit, rows[field])
    assert "40 000" in rows["error"]


def rest_record(wire: dict[str, Any]) -> dict[str, Any]:
    return job_to_rest({**protocol.validate_job(wire), "kernel_id": "k-1", "paths": ["a.ipynb"]})


def test_the_rest_view_carries_every_field_in_the_schemas_order() -> None:
    wire = {
        "uid": "u-1",
        "number": 0,
        "name": None,
        "code": "6*7",
        "kind": "expr",
        "status": "finished",
        "group": None,
        "created": 1_700_000_000.25,
        "started": 1_700_000_000.5,
        "ended": 1_700_000_001.0,
        "result_repr": "42",
        "error": None,
        "output_tail": "",
        "progress": None,
        "kill_requested": False,
        "blocked_in": None,
        "where": {"backend": "thread", "pid": None, "address": None, "worker": None, "dashboard": None},
    }
    job = rest_record(wire)
    assert list(job) == list(SCHEMA["properties"])
    VALIDATOR.validate(job)
    assert (job["created"], job["elapsed"], job["paths"]) == ("2023-11-14T22:13:20.250000Z", 0.5, ["a.ipynb"])


def test_over_long_texts_are_clipped_within_the_schemas_limits() -> None:
    wire = {
        "uid": "u-2",
        "number": 1,
        "name": "n" * 300,
        "code": "c" * 30_000,
        "kind": "cell",
        "status": "failed",
        "group": "g" * 300,
        "created": 1.0,
        "started": None,
        "ended": None,
        "result_repr": "r" * 3_000,
        "error": {"ename": "E" * 300, "evalue": "v" * 3_000, "traceback": ["t" * 20_000] * 6},
        "output_tail": "x" * 9_000 + "THE END",
        "progress": {"done": 1, "total": 2, "desc": "d" * 300},
        "kill_requested": True,
        "blocked_in": "w" * 600,
        "where": {"backend": "dask", "pid": None, "address": "a" * 600, "worker": "w" * 600, "dashboard": None},
    }
    job = rest_record(wire)
    VALIDATOR.validate(job)
    assert len(job["where"]["worker"]) == len(job["where"]["address"]) == protocol.MAX_ADDRESS == 500
    assert job["output_tail"].endswith("THE END")
    assert len(job["output_tail"]) == protocol.MAX_OUTPUT_TAIL
    assert job["code"].startswith("ccc")
    assert len(job["code"]) == protocol.MAX_CODE
    assert sum(map(len, job["error"]["traceback"])) <= protocol.MAX_TRACEBACK + 100


def test_q_looks_in_exactly_the_fields_of_x_search() -> None:
    store = JobStore()
    wire = {
        "uid": "uidtoken",
        "number": 0,
        "name": "nametoken",
        "code": "codetoken",
        "kind": "expr",
        "status": "failed",
        "group": "grouptoken",
        "created": 1.0,
        "started": 1.0,
        "ended": 2.0,
        "result_repr": "reprtoken",
        "error": {"ename": "enametoken", "evalue": "evaluetoken", "traceback": ["tracebacktoken"]},
        "output_tail": "outputtoken",
        "progress": {"done": 1, "total": None, "desc": "desctoken"},
        "kill_requested": False,
        "blocked_in": "wheretoken",
    }
    store.apply_snapshot("kerneltoken", [protocol.validate_job(wire)])
    store.set_paths({"kerneltoken": ["pathtoken.ipynb"]}, ["kerneltoken"])

    def found(text: str) -> bool:
        page, _, _ = store.query(Query(text=text))
        return [job["uid"] for job in page] == ["uidtoken"]

    searched = ["nametoken", "codetoken", "grouptoken", "uidtoken", "kerneltoken", "failed", "evaluetoken"]
    assert [text for text in [*searched, "PATHTOKEN"] if not found(text)] == []
    unsearched = ["reprtoken", "enametoken", "tracebacktoken", "outputtoken", "desctoken", "wheretoken", "expr"]
    assert [text for text in unsearched if found(text)] == []


def kernel_wire_records(kernel: KernelSession) -> list[dict[str, Any]]:
    """Wire records of real jobs (finished with progress, failed, killed, queued), with over-long texts."""
    kernel.execute("import time, jupyter_bgjobs")
    kernel.execute("jobs.new(lambda: jupyter_bgjobs.report(1, 1, 'd' * 300) or 'r' * 3000, name='n' * 300)")
    kernel.execute("def broken(): raise ValueError('v' * 3000)")
    kernel.execute("jobs.new(broken, name='broken')")
    kernel.execute("%job -n sleeper time.sleep(600)")
    kernel.execute("waiting = jobs.run_expression('1', globals(), name='waiting', start=False)")
    kernel.wait_for("[j.status for j in jobs.list()][:3]", ["finished", "failed", "running"])
    kernel.execute("jobs.kill(2)")
    kernel.wait_for("jobs[2].status", "killed")
    records: list[dict[str, Any]] = kernel.value("[job.to_wire() for job in jobs.list()]")
    return records


def test_the_kernels_wire_record_carries_every_wire_field(kernel: KernelSession) -> None:
    records = kernel_wire_records(kernel)
    assert [record["status"] for record in records] == ["finished", "failed", "killed", "queued"]
    assert wire_gap(SCHEMA["properties"], records) == set()
    for wire in records:
        # As the kernel sent it: within the schema's limits before the server clips anything.
        VALIDATOR.validate(job_to_rest({**wire, "kernel_id": "k-1", "paths": []}))
    assert len(records[0]["name"]) == protocol.MAX_NAME
    assert len(records[0]["progress"]["desc"]) == protocol.MAX_DESC
    assert len(records[1]["error"]["evalue"]) == protocol.MAX_EVALUE


def test_a_field_added_to_the_schema_is_missed_by_every_layer_that_does_not_carry_it(
    kernel: KernelSession,
) -> None:
    records = kernel_wire_records(kernel)
    properties = copy.deepcopy(SCHEMA["properties"])
    properties["runs_on"] = {"type": "string", "description": "Where the job runs."}
    gaps = {
        "kernel Job.to_wire": wire_gap(properties, records),
        "openapi.json": openapi_gap(properties),
        "jobs-event-v1.json": event_schema_gap(properties),
        "docs/protocol.md": protocol_doc_gap(properties),
        "docs/rest.md": rest_doc_gap(properties),
    }
    assert gaps == {key: {"runs_on"} for key in gaps}
    # A server-only field: the kernel and the protocol's table need not carry it.
    properties["runs_on"]["x-server"] = True
    assert wire_gap(properties, records) == protocol_doc_gap(properties) == set()
    assert openapi_gap(properties) == rest_doc_gap(properties) == {"runs_on"}
