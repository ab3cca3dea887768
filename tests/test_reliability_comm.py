"""Fuzzing the kernel's comm endpoint: nothing a client sends breaks the kernel or its jobs.

Hypothesis generates malformed, oversized (megabytes), wrong-typed,
unknown-type and out-of-order messages for both comm targets of a real
kernel, on ipykernel 7 and 6, over the control channel and the shell (a
subshell on ipykernel 7, the main shell on ipykernel 6). One kernel per
(ipykernel, route) serves the whole run, with a job started before the
fuzzing that must live through it and end with its result.

Every example is followed by two sentinels on the same route: a control
``get`` and an events ``resync``. One thread serves a route and publishes in
order, so when the sentinels' answers arrive, every answer to the fuzzed
message has arrived too: each bad control message must have had exactly one
error reply, each bad events message exactly one error push, and a message
to a comm that is not open nothing at all.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from jupyter_bgjobs import protocol

from .comm_client import CommClient
from .kernel_session import KernelSession

# (kernelspec, route): the control channel on both ipykernels; the shell as
# the fallback, on a subshell of ipykernel 7 and on ipykernel 6's main shell.
ROUTES = [("python3", "control"), ("python3", "subshell"), ("python3-ipk6", "control"), ("python3-ipk6", "shell")]
# Examples per (ipykernel, route): each kind of message, and each comm-level action on each target.
MESSAGE_EXAMPLES = 8
COMM_EXAMPLES = 3

EVENTS, CONTROL = protocol.EVENTS_TARGET, protocol.CONTROL_TARGET
OPS = protocol.OPS
PROTOCOL_KEYS = {"v", "type", "op", "req_id", "uid", "group"}
MISSING = object()  # a field left out of a generated message


# --- what to send -----------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
small_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


def _megabytes(size: int, char: str) -> str:
    return char * (size // len(char.encode()))


# A few megabytes of one character, one to four bytes in UTF-8 (and JSON escapes).
huge_strings = st.builds(
    _megabytes, st.sampled_from([1 << 20, 3 << 20]), st.sampled_from(["x", "é", "🙂", '"\\', "\n"])
)


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


# Deep enough to hurt a recursive validator; shallow enough for the client's JSON encoder.
deep_values = st.builds(_nested, st.integers(min_value=50, max_value=600), scalars)
any_values = st.one_of(small_values, small_values, small_values, huge_strings, deep_values)
not_objects = any_values.filter(lambda value: not isinstance(value, dict))
extras = st.dictionaries(st.text(max_size=12).filter(lambda key: key not in PROTOCOL_KEYS), any_values, max_size=3)


def _is_one(value: Any) -> bool:
    return type(value) in (int, float) and value == 1


wrong_versions = st.just(MISSING) | any_values.filter(lambda value: not _is_one(value))
req_ids = st.text(min_size=1, max_size=protocol.MAX_REQ_ID) | st.just("r" * protocol.MAX_REQ_ID)
bad_req_ids = st.one_of(
    st.just(MISSING),
    st.just(""),
    st.just("r" * (protocol.MAX_REQ_ID + 1)),
    huge_strings,
    deep_values,
    small_values.filter(lambda value: not isinstance(value, str)),
)
bad_uids = st.one_of(
    st.just(MISSING),
    st.just(""),
    st.just("u" * (protocol.MAX_UID + 1)),
    huge_strings,
    small_values.filter(lambda value: not isinstance(value, str)),
)
bad_groups = st.one_of(
    st.just(""),
    st.just("g" * (protocol.MAX_NAME + 1)),
    huge_strings,
    small_values.filter(lambda value: value is not None and not isinstance(value, str)),
)


def _message(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not MISSING}


@dataclass
class ControlCase:
    """A message for the control comm and the answer it must get."""

    kind: str
    data: Any
    code: str | None  # the error code of the reply; None: a successful reply
    op: str = ""


@dataclass
class EventsCase:
    """A message for the events comm: an error push with ``code``, or (None) a snapshot."""

    kind: str
    data: Any
    code: str | None


@dataclass
class CommCase:
    """Something done to comms as a whole (ids, opens, closes, order)."""

    action: str
    target: str
    data: Any = None
    count: int = 0


CONTROL_KINDS = (
    "not_object",
    "bad_version",
    "unknown_type",
    "bad_req_id",
    "unknown_op",
    "bad_uid",
    "unknown_uid",
    "bad_group",
    "valid",
)
EVENTS_KINDS = ("not_object", "bad_version", "unknown_type", "resync")


@st.composite
def control_cases(draw: st.DrawFn, kind: str, survivor: str) -> ControlCase:
    extra = draw(extras)
    req_id = draw(req_ids)
    op = draw(st.sampled_from(OPS))
    base = {**extra, "v": 1, "type": "request", "req_id": req_id, "op": op, "uid": survivor, "group": "no-such-group"}
    if kind == "not_object":
        return ControlCase(kind, draw(not_objects), "bad_request")
    if kind == "bad_version":
        return ControlCase(kind, _message(**{**base, "v": draw(wrong_versions)}), "bad_version")
    if kind == "unknown_type":
        kind_value = draw(st.just(MISSING) | any_values.filter(lambda value: value != "request"))
        return ControlCase(kind, _message(**{**base, "type": kind_value}), "unknown_type")
    if kind == "bad_req_id":
        return ControlCase(kind, _message(**{**base, "req_id": draw(bad_req_ids)}), "bad_request")
    if kind == "unknown_op":
        op_value = draw(st.just(MISSING) | any_values.filter(lambda value: value not in OPS))
        return ControlCase(kind, _message(**{**base, "op": op_value}), "unknown_op")
    if kind == "bad_uid":
        op = draw(st.sampled_from(["get", "kill", "remove"]))
        return ControlCase(kind, _message(**{**base, "op": op, "uid": draw(bad_uids)}), "bad_request")
    if kind == "unknown_uid":
        op = draw(st.sampled_from(["get", "kill", "remove"]))
        uid = draw(st.text(min_size=1, max_size=protocol.MAX_UID).filter(lambda uid: uid != survivor))
        return ControlCase(kind, {**base, "op": op, "uid": uid}, "not_found")
    if kind == "bad_group":
        return ControlCase(kind, {**base, "op": "kill_all", "group": draw(bad_groups)}, "bad_request")
    # Valid requests, with extra fields, that leave the survivor alone: a
    # kill_all without a group would kill it.
    op = draw(st.sampled_from(["list", "get", "kill_all"]))
    group = draw(st.text(min_size=1, max_size=protocol.MAX_NAME))
    return ControlCase(kind, {**base, "op": op, "group": group}, None, op)


@st.composite
def events_cases(draw: st.DrawFn, kind: str) -> EventsCase:
    base = {**draw(extras), "v": 1, "type": "resync"}
    if kind == "not_object":
        return EventsCase(kind, draw(not_objects), "bad_request")
    if kind == "bad_version":
        return EventsCase(kind, _message(**{**base, "v": draw(wrong_versions)}), "bad_version")
    if kind == "unknown_type":
        kind_value = draw(st.just(MISSING) | any_values.filter(lambda value: value != "resync"))
        return EventsCase(kind, _message(**{**base, "type": kind_value}), "unknown_type")
    return EventsCase(kind, base, None)


COMM_ACTIONS = [
    "never_opened",  # a comm_msg to an id never opened
    "closed",  # a comm_msg to a comm the client closed
    "no_data",  # a comm_msg without data
    "bad_content",  # content that is not a comm message at all
    "duplicate_open",  # the same comm id opened twice (either target the second time)
    "bad_open",  # comm_open data that is not {"v": 1}
    "unknown_target",  # comm_open towards a target nobody registered
    "msg_before_open",  # a comm_msg, then the comm_open of that id
    "close_unknown",  # comm_close of an id never opened, and twice of one that was
    "resync_storm",  # many resyncs at once
    "before_snapshot",  # requests sent before the snapshot of the open came
]


@st.composite
def comm_cases(draw: st.DrawFn, action: str, target: str) -> CommCase:
    data: Any = draw(any_values)
    if action == "bad_open":
        data = draw(not_objects | st.builds(lambda v: _message(v=v), wrong_versions))
    if action == "bad_content":
        data = draw(
            st.sampled_from(
                ["list", "string", "not_json", "comm_id_int", "comm_id_list", "comm_id_dict", "comm_id_missing"]
            )
        )
    return CommCase(action, target, data, draw(st.integers(min_value=5, max_value=40)))


# --- the kernels --------------------------------------------------------------------------------

Kernels = dict[tuple[str, str], tuple[KernelManager, BlockingKernelClient]]


@pytest.fixture(scope="module")
def kernels() -> Iterator[Kernels]:
    """One kernel per (ipykernel, route), all launched at once (a start takes seconds), jupyter_bgjobs loaded."""
    launched: Kernels = {}
    try:
        for name, route in ROUTES:
            manager = KernelManager(kernel_name=name)
            manager.start_kernel()
            launched[(name, route)] = (manager, manager.client())
        for _, client in launched.values():
            client.start_channels()
            client.wait_for_ready(timeout=120)
            reply = client.execute_interactive("%load_ext jupyter_bgjobs", timeout=60, allow_stdin=False)
            assert reply["content"]["status"] == "ok", reply["content"]
        yield launched
    finally:
        for manager, client in launched.values():
            client.stop_channels()
            manager.shutdown_kernel(now=True)


# --- the fuzzing client -------------------------------------------------------------------------


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value``."""
    deepest, level = 0, [(value, 0)]
    while level:
        item, at = level.pop()
        deepest = max(deepest, at)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        level.extend((child, at + 1) for child in children)
    return deepest


def expected_req_id(data: Any) -> str | None:
    """The req_id an error reply must echo: the request's, when it is a usable one."""
    if isinstance(data, dict):
        req_id = data.get("req_id")
        if isinstance(req_id, str) and 1 <= len(req_id) <= protocol.MAX_REQ_ID:
            return req_id
    return None


def assert_error_reply(reply: dict[str, Any], code: str, req_id: str | None) -> None:
    assert set(reply) == {"v", "type", "req_id", "ok", "error"}, reply
    assert (reply["v"], reply["type"], reply["req_id"], reply["ok"]) == (1, "reply", req_id, False), reply
    assert set(reply["error"]) == {"code", "message"}
    assert reply["error"]["code"] == code, reply
    assert isinstance(reply["error"]["message"], str)
    assert 0 < len(reply["error"]["message"]) <= protocol.MAX_MESSAGE


def assert_error_push(push: dict[str, Any], code: str) -> None:
    assert set(push) == {"v", "type", "error"}, push  # no seq
    assert (push["v"], push["type"], push["error"]["code"]) == (1, "error", code), push
    assert set(push["error"]) == {"code", "message"}
    assert 0 < len(push["error"]["message"]) <= protocol.MAX_MESSAGE


@dataclass
class Fuzzer:
    """The fuzzing client of one kernel: its two long-lived comms, and what it has checked."""

    comms: CommClient
    events: str = ""
    control: str = ""
    seq: int = -1  # the last seq seen on the events comm
    survivor: dict[str, Any] = field(default_factory=dict)
    dead_ids: set[str] = field(default_factory=set)  # comms that must never hear from the kernel again
    counts: Counter[str] = field(default_factory=Counter)
    extremes: Counter[str] = field(default_factory=Counter)  # cases with megabytes or deep nesting

    def take(self, comm_id: str) -> dict[str, Any]:
        """The next message on ``comm_id``, in order."""
        return self.comms.next(comm_id, lambda data: True, timeout=30)

    def snapshot(self) -> dict[str, Any]:
        push = self.take(self.events)
        assert push["type"] == "snapshot", push
        assert push["seq"] == self.seq + 1, (push["seq"], self.seq)
        self.seq = push["seq"]
        return push

    def open_before_snapshot(self) -> None:
        """Open both comms and send requests before anything has come back."""
        self.events = self.comms.open(EVENTS)
        self.control = self.comms.open(CONTROL)
        self.comms.message(self.events, protocol.resync_request())
        self.comms.message(self.control, protocol.request("list", "first"))
        first, second = self.snapshot(), self.snapshot()
        assert (first["seq"], second["seq"]) == (0, 1)
        assert first["jobs"] == second["jobs"]
        (self.survivor,) = first["jobs"]
        assert (self.survivor["name"], self.survivor["status"]) == ("survivor", "running")
        listed = self.take(self.control)
        assert (listed["req_id"], listed["ok"], listed["jobs"]) == ("first", True, first["jobs"])

    def sentinels(self) -> None:
        """Both comms answer, in order, with nothing left over; the survivor still runs."""
        req_id = uuid.uuid4().hex
        self.comms.message(self.control, protocol.request("get", req_id, uid=self.survivor["uid"]))
        self.comms.message(self.events, protocol.resync_request())
        reply = self.take(self.control)
        assert (reply["req_id"], reply["ok"], reply["job"]["status"]) == (req_id, True, "running"), reply
        snapshot = self.snapshot()
        assert [job["uid"] for job in snapshot["jobs"]] == [self.survivor["uid"]]
        assert snapshot["jobs"][0]["status"] == "running"
        self.assert_quiet()

    def assert_quiet(self) -> None:
        assert self.comms.received[self.control] == []
        assert self.comms.received[self.events] == []
        assert {self.events, self.control}.isdisjoint(self.comms.closed)
        for comm_id in self.dead_ids:
            assert self.comms.received.get(comm_id, []) == [], comm_id

    # --- playing one case ---------------------------------------------------------

    def play(self, case: ControlCase | EventsCase | CommCase) -> None:
        if len(json.dumps(case.data, ensure_ascii=False).encode()) >= 1 << 20:
            self.extremes["megabytes"] += 1
        if depth(case.data) >= 50:
            self.extremes["deep"] += 1
        if isinstance(case, ControlCase):
            self.play_control(case)
        elif isinstance(case, EventsCase):
            self.play_events(case)
        else:
            self.counts[f"comm:{case.action}:{case.target[15:]}"] += 1
            getattr(self, f"comm_{case.action}")(case)
        self.sentinels()

    def play_control(self, case: ControlCase) -> None:
        self.counts[f"control:{case.kind}"] += 1
        self.comms.message(self.control, case.data)
        reply = self.take(self.control)
        if case.code is not None:
            assert_error_reply(reply, case.code, expected_req_id(case.data))
            return
        assert (reply["v"], reply["type"], reply["ok"], reply["req_id"]) == (1, "reply", True, case.data["req_id"])
        if case.op == "list":
            assert [job["uid"] for job in reply["jobs"]] == [self.survivor["uid"]]
        elif case.op == "get":
            assert (reply["job"]["uid"], reply["job"]["status"]) == (self.survivor["uid"], "running")
        else:
            assert reply["killed"] == []

    def play_events(self, case: EventsCase) -> None:
        self.counts[f"events:{case.kind}"] += 1
        self.comms.message(self.events, case.data)
        if case.code is None:
            self.snapshot()
        else:
            assert_error_push(self.take(self.events), case.code)

    def fresh(self, target: str) -> str:
        """A newly opened comm of ``target``, checked to answer; its id."""
        comm_id = self.comms.open(target)
        self.check_open(comm_id, target)
        return comm_id

    def check_open(self, comm_id: str, target: str, first_seq: int = 0) -> None:
        if target == EVENTS:
            snapshot = self.take(comm_id)
            assert (snapshot["type"], snapshot["seq"]) == ("snapshot", first_seq), snapshot
        else:
            self.comms.message(comm_id, protocol.request("list", "check"))
            assert self.take(comm_id)["req_id"] == "check"

    def close(self, comm_id: str) -> None:
        self.comms.send("comm_close", {"comm_id": comm_id, "data": {}})
        self.dead_ids.add(comm_id)

    def comm_never_opened(self, case: CommCase) -> None:
        comm_id = self.comms.new_comm_id()  # under the client's subscription: its answers are heard
        self.dead_ids.add(comm_id)
        self.comms.message(comm_id, case.data)

    def comm_closed(self, case: CommCase) -> None:
        comm_id = self.fresh(case.target)
        self.close(comm_id)
        self.comms.message(comm_id, case.data)
        self.comms.message(comm_id, protocol.resync_request())
        self.comms.message(comm_id, protocol.request("list", "after-close"))

    def comm_no_data(self, case: CommCase) -> None:
        comm_id = self.events if case.target == EVENTS else self.control
        self.comms.send("comm_msg", {"comm_id": comm_id})
        if case.target == EVENTS:
            assert_error_push(self.take(comm_id), "bad_request")
        else:
            assert_error_reply(self.take(comm_id), "bad_request", None)

    def comm_bad_content(self, case: CommCase) -> None:
        comm_id = self.events if case.target == EVENTS else self.control
        request = protocol.request("list", "bad-content")
        # Bytes go out as they are (jupyter_client takes them for packed content).
        content: Any = {
            "list": json.dumps([comm_id, request]).encode(),
            "string": json.dumps(comm_id).encode(),
            "not_json": b"{" + comm_id.encode(),
            "comm_id_int": {"comm_id": 7, "data": request},
            "comm_id_list": {"comm_id": [comm_id], "data": request},
            "comm_id_dict": {"comm_id": {comm_id: 1}, "data": request},
            "comm_id_missing": {"data": request},
        }[case.data]
        self.comms.send("comm_msg", content)

    def comm_duplicate_open(self, case: CommCase) -> None:
        comm_id = self.fresh(case.target)
        second = EVENTS if case.count % 2 else CONTROL
        # The same id opened again: the second open replaces the first, which
        # must neither push any more nor close the id behind the client's back.
        self.comms.send("comm_open", {"comm_id": comm_id, "target_name": second, "data": protocol.open_data()})
        self.check_open(comm_id, second)
        self.close(comm_id)

    def comm_bad_open(self, case: CommCase) -> None:
        comm_id = self.comms.new_comm_id()  # under the client's subscription: its answers are heard
        self.comms.send("comm_open", {"comm_id": comm_id, "target_name": case.target, "data": case.data})
        answer = self.take(comm_id)
        code = "bad_request" if not isinstance(case.data, dict) else "bad_version"
        if case.target == EVENTS:
            assert_error_push(answer, code)
        else:
            assert_error_reply(answer, code, None)
        assert self.comms.wait_closed(comm_id, timeout=30)
        self.dead_ids.add(comm_id)

    def comm_unknown_target(self, case: CommCase) -> None:
        comm_id = self.comms.new_comm_id()  # under the client's subscription: its answers are heard
        self.dead_ids.add(comm_id)
        target = f"jupyter_bgjobs.{case.count}"
        self.comms.send("comm_open", {"comm_id": comm_id, "target_name": target, "data": protocol.open_data()})
        self.comms.message(comm_id, case.data)
        if self.comms.route != "control":
            # ipykernel answers on the shell: "No such comm target registered", and a comm_close.
            assert self.comms.wait_closed(comm_id, timeout=30)

    def comm_msg_before_open(self, case: CommCase) -> None:
        comm_id = self.comms.new_comm_id()  # under the client's subscription: its answers are heard
        self.comms.message(comm_id, protocol.request("list", "too-early"))
        self.comms.message(comm_id, protocol.resync_request())
        self.comms.send("comm_open", {"comm_id": comm_id, "target_name": case.target, "data": protocol.open_data()})
        self.check_open(comm_id, case.target)
        self.close(comm_id)

    def comm_close_unknown(self, case: CommCase) -> None:
        self.comms.send("comm_close", {"comm_id": self.comms.new_comm_id(), "data": case.data})
        comm_id = self.fresh(case.target)
        self.close(comm_id)
        self.close(comm_id)

    def comm_resync_storm(self, case: CommCase) -> None:
        for _ in range(case.count):
            self.comms.message(self.events, protocol.resync_request())
        for _ in range(case.count):
            assert self.snapshot()["jobs"][0]["uid"] == self.survivor["uid"]

    def comm_before_snapshot(self, case: CommCase) -> None:
        events, control = self.comms.open(EVENTS), self.comms.open(CONTROL)
        for _ in range(3):
            self.comms.message(events, protocol.resync_request())
            self.comms.message(control, protocol.request("get", "early", uid=self.survivor["uid"]))
        assert [self.take(events)["seq"] for _ in range(4)] == [0, 1, 2, 3]
        assert [self.take(control)["job"]["status"] for _ in range(3)] == ["running"] * 3
        self.close(events)
        self.close(control)


# --- the test -----------------------------------------------------------------------------------


def fuzz(fuzzer: Fuzzer, strategy: st.SearchStrategy[Any], examples: int) -> None:
    """Play ``examples`` cases drawn from ``strategy`` (a fixed seed: the same cases every run)."""

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # No shrinking: after a failure the kernel's comms are in an unknown state.
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=strategy)
    def play(case: ControlCase | EventsCase | CommCase) -> None:
        fuzzer.play(case)

    play()


@dataclass
class FuzzRun:
    """One (ipykernel, route) under fuzzing: its kernel, a job started before, the fuzzing client."""

    manager: KernelManager
    kernel: KernelSession
    comms: CommClient
    fuzzer: Fuzzer
    survivor: str  # the uid of the job that must live through the fuzzing


@pytest.fixture(scope="module", params=ROUTES, ids=[f"{name}-{route}" for name, route in ROUTES])
def run(request: pytest.FixtureRequest, kernels: Kernels) -> Iterator[FuzzRun]:
    """The fuzzing of one (ipykernel, route), shared by the tests below in their order."""
    kernel_name, route = request.param
    began = time.monotonic()
    manager, client = kernels[(kernel_name, route)]
    kernel = KernelSession(client, kernel_name)
    kernel.stdout("import threading; gate = threading.Event()")
    kernel.stdout("%job -n survivor gate.wait(600) and sum(range(1000))")
    comms = CommClient(client, route)
    fuzzer = Fuzzer(comms)
    try:
        fuzzer.open_before_snapshot()
        yield FuzzRun(manager, kernel, comms, fuzzer, fuzzer.survivor["uid"])
    finally:
        comms.stop()
    summary = Counter({target: 0 for target in ("control", "events", "comm")})
    for name, count in fuzzer.counts.items():
        summary[name.split(":")[0]] += count
    print(
        f"\nfuzz {kernel_name}/{route}: {sum(summary.values())} cases in {time.monotonic() - began:.1f} s:"
        f" {summary['control']} control messages, {summary['events']} events messages,"
        f" {summary['comm']} comm-level cases ({fuzzer.extremes['megabytes']} of megabytes,"
        f" {fuzzer.extremes['deep']} nested 50 to 600 deep); by kind: {dict(sorted(fuzzer.counts.items()))}"
    )


@pytest.mark.parametrize("kind", CONTROL_KINDS)
def test_each_control_message_gets_exactly_one_reply(run: FuzzRun, kind: str) -> None:
    fuzz(run.fuzzer, control_cases(kind, run.survivor), MESSAGE_EXAMPLES)


@pytest.mark.parametrize("kind", EVENTS_KINDS)
def test_each_events_message_gets_exactly_one_push(run: FuzzRun, kind: str) -> None:
    fuzz(run.fuzzer, events_cases(kind), MESSAGE_EXAMPLES)


# In the order of the single run this replaces: each action on the events comm, then on the control one.
@pytest.mark.parametrize("target", [EVENTS, CONTROL], ids=["events", "control"])
@pytest.mark.parametrize("action", COMM_ACTIONS)
def test_comm_level_misuse_is_answered_as_documented(run: FuzzRun, target: str, action: str) -> None:
    fuzz(run.fuzzer, comm_cases(action, target), COMM_EXAMPLES)


def test_the_kernel_and_a_job_started_before_live_through_the_fuzzing(run: FuzzRun) -> None:
    kernel, fuzzer, survivor = run.kernel, run.fuzzer, run.survivor
    # Comms dropped without a close (a replaced duplicate) must not close
    # the id when the kernel's garbage collector finds them.
    kernel.stdout("import gc; gc.collect()")
    fuzzer.sentinels()
    assert run.manager.is_alive()
    assert kernel.value("6*7") == 42
    assert kernel.value("[j.status for j in jobs.list()]") == ["running"]

    kernel.stdout("gate.set()")
    kernel.stdout("%job -n after 6*7")
    ended: dict[str, dict[str, Any]] = {}
    while {name: job["status"] for name, job in ended.items()} != {"survivor": "finished", "after": "finished"}:
        push = fuzzer.take(fuzzer.events)
        assert (push["type"], push["seq"]) == ("update", fuzzer.seq + 1), push
        fuzzer.seq = push["seq"]
        ended.update({job["name"]: job for job in push["jobs"]})
    assert (ended["survivor"]["uid"], ended["survivor"]["result_repr"]) == (survivor, "499500")
    assert ended["after"]["result_repr"] == "42"
    listed = run.comms.request(fuzzer.control, "list")
    assert [(job["name"], job["status"], job["result_repr"]) for job in listed["jobs"]] == [
        ("survivor", "finished", "499500"),
        ("after", "finished", "42"),
    ]
    fuzzer.assert_quiet()
