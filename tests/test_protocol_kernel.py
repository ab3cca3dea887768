"""The kernel's end of the protocol, driven by a bare client over both routes.

Real kernels (ipykernel 7 and 6); the client opens the comms on the control
channel (both kernels) or on a kernel subshell (ipykernel 7).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from jupyter_bgjobs import protocol

from .comm_client import CommClient
from .kernel_session import KernelSession

ROUTES = [("python3", "control"), ("python3", "subshell"), ("python3-ipk6", "control")]


class Endpoint:
    def __init__(self, kernel: KernelSession, comms: CommClient) -> None:
        self.kernel = kernel
        self.comms = comms
        self.events = comms.open(protocol.EVENTS_TARGET)
        self.control = comms.open(protocol.CONTROL_TARGET)
        self.snapshot = comms.next(self.events, lambda data: data.get("type") == "snapshot")

    def push(self, predicate: Any = lambda data: True, timeout: float = 10) -> dict[str, Any]:
        return self.comms.next(self.events, predicate, timeout)


@pytest.fixture(params=ROUTES, ids=[f"{name}-{route}" for name, route in ROUTES])
def endpoint(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    kernel_name, route = request.param
    manager, client = start_new_kernel(kernel_name=kernel_name, startup_timeout=60)
    # A kernel started without the Jupyter server: the user loads the extension.
    reply = client.execute_interactive("%load_ext jupyter_bgjobs", timeout=60, allow_stdin=False)
    assert reply["content"]["status"] == "ok", reply["content"]
    comms = CommClient(client, route)
    try:
        yield Endpoint(KernelSession(client, kernel_name), comms)
    finally:
        comms.stop()
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def busy(endpoint: Endpoint, seconds: int = 30) -> None:
    """Make the main shell run a long cell (without waiting for it)."""
    endpoint.kernel.client.execute(f"import time; time.sleep({seconds})")
    time.sleep(0.3)  # let the cell start


def test_snapshot_then_updates_in_sequence_then_resync(endpoint: Endpoint) -> None:
    assert endpoint.snapshot == {"v": 1, "type": "snapshot", "seq": 0, "jobs": []}
    endpoint.kernel.stdout("%job 6*7")
    seen = []
    while not any(job["status"] == "finished" for push in seen for job in push["jobs"]):
        seen.append(endpoint.push(lambda data: data["type"] == "update"))
    assert [push["seq"] for push in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["jobs"][0]["result_repr"] == "42"

    endpoint.comms.message(endpoint.events, protocol.resync_request())
    again = endpoint.push(lambda data: data["type"] == "snapshot")
    assert again["seq"] == len(seen) + 1
    assert [(job["number"], job["status"]) for job in again["jobs"]] == [(0, "finished")]


def test_a_burst_comes_as_updates_of_at_most_100_jobs_in_sequence(endpoint: Endpoint) -> None:
    # 450 jobs wait for one event and end together, within a feed batch or two;
    # a batch of more than 100 jobs is split (the server applies each message in one go).
    endpoint.kernel.stdout(
        "import threading, time\ngo = threading.Event()\nfor i in range(450): jobs.new(go.wait)\n"
        "time.sleep(0.5)\ngo.set()"
    )
    seen: list[dict[str, Any]] = []
    finished: set[str] = set()
    while len(finished) < 450:
        push = endpoint.push(lambda data: data["type"] == "update")
        seen.append(push)
        finished |= {job["uid"] for job in push["jobs"] if job["status"] == "finished"}
    assert [push["seq"] for push in seen] == list(range(1, len(seen) + 1))
    assert max(len(push["jobs"]) for push in seen) == 100
    assert all(len({job["uid"] for job in push["jobs"]}) == len(push["jobs"]) for push in seen)


def test_resync_and_kill_are_served_while_the_main_shell_is_busy(endpoint: Endpoint) -> None:
    endpoint.kernel.stdout("import time")
    endpoint.kernel.stdout("%job time.sleep(60)")
    endpoint.kernel.stdout("%job time.sleep(1)")
    busy(endpoint)
    # This update comes from the job feed's thread while the main shell's cell
    # is the kernel's latest parent: ipykernel 7.4 routes the client's next
    # message on the comm to the shell of the comm's last message.
    endpoint.push(lambda data: any(job["status"] == "finished" for job in data["jobs"]))

    began = time.monotonic()
    endpoint.comms.message(endpoint.events, protocol.resync_request())
    snapshot = endpoint.push(lambda data: data["type"] == "snapshot", timeout=5)
    assert time.monotonic() - began < 1.0
    assert [job["status"] for job in snapshot["jobs"]] == ["running", "finished"]

    began = time.monotonic()
    sleeper = snapshot["jobs"][0]
    reply = endpoint.comms.request(endpoint.control, "kill", uid=sleeper["uid"])
    assert reply["ok"] is True
    assert reply["job"]["kill_requested"] is True
    endpoint.push(lambda data: any(job["status"] == "killed" for job in data["jobs"]))
    assert time.monotonic() - began < 1.0


def test_every_control_operation(endpoint: Endpoint) -> None:
    endpoint.kernel.stdout("import time")
    endpoint.kernel.stdout("%job -n sleeper time.sleep(60)")
    endpoint.kernel.stdout("%job 1+1")
    endpoint.kernel.wait_for("[j.status for j in jobs.list()]", ["running", "finished"])
    request = endpoint.comms.request
    listed = request(endpoint.control, "list")
    assert listed["ok"] is True
    sleeper, done = listed["jobs"]
    assert (sleeper["name"], sleeper["status"], done["result_repr"]) == ("sleeper", "running", "2")
    assert request(endpoint.control, "get", uid=done["uid"])["job"]["uid"] == done["uid"]

    refused = request(endpoint.control, "remove", uid=sleeper["uid"])
    assert refused["ok"] is False
    assert refused["error"]["code"] == "conflict"
    assert request(endpoint.control, "kill", uid=done["uid"])["error"]["code"] == "conflict"
    assert request(endpoint.control, "get", uid="no-such-job")["error"]["code"] == "not_found"

    nothing = request(endpoint.control, "kill_all", group="no-such-group")
    assert (nothing["ok"], nothing["killed"]) == (True, [])
    killed = request(endpoint.control, "kill_all")
    assert killed["killed"] == [sleeper["uid"]]
    assert endpoint.kernel.wait_for("jobs[0].status", "killed") == "killed"
    removed = request(endpoint.control, "remove", uid=done["uid"])
    assert {key: removed[key] for key in ("v", "type", "ok", "removed")} == {
        "v": 1,
        "type": "reply",
        "ok": True,
        "removed": done["uid"],
    }
    assert endpoint.kernel.value("len(jobs)") == 1


def test_kill_many_kills_the_running_and_says_why_not_for_the_others(endpoint: Endpoint) -> None:
    endpoint.kernel.stdout("import time")
    endpoint.kernel.stdout("%job -n done 6*7")
    endpoint.kernel.wait_for("jobs[0].status", "finished")
    for name in ("first", "second", "third"):
        endpoint.kernel.stdout(f"%job -n {name} time.sleep(60)")
    endpoint.kernel.wait_for("[j.status for j in jobs.list()]", ["finished", "running", "running", "running"])
    done, first, second, third = (job["uid"] for job in endpoint.comms.request(endpoint.control, "list")["jobs"])
    busy(endpoint)  # served while the main shell runs a cell

    reply = endpoint.comms.request(endpoint.control, "kill_many", uids=[second, done, "no-such-job", first, second])
    assert {key: reply[key] for key in ("v", "type", "ok", "killed", "refused")} == {
        "v": 1,
        "type": "reply",
        "ok": True,
        "killed": [second, first],  # in the order asked, each once
        "refused": [
            {"uid": done, "code": "conflict", "message": "job 0 is not running (it is finished)"},
            {"uid": "no-such-job", "code": "not_found", "message": "no job with uid 'no-such-job'"},
        ],
    }
    assert protocol.reply_payload("kill_many", protocol.parse_reply(reply)) == {
        "killed": [second, first],
        "refused": reply["refused"],
    }
    listed: dict[str, str] = {}
    deadline = time.monotonic() + 10
    while listed.get(first) != "killed" or listed.get(second) != "killed":
        assert time.monotonic() < deadline, listed
        listed = {job["uid"]: job["status"] for job in endpoint.comms.request(endpoint.control, "list")["jobs"]}
    assert listed == {done: "finished", first: "killed", second: "killed", third: "running"}

    again = endpoint.comms.request(endpoint.control, "kill_many", uids=[first, third])
    assert (again["killed"], again["refused"]) == (
        [third],
        [{"uid": first, "code": "conflict", "message": "job 1 is not running (it is killed)"}],
    )


MALFORMED_CONTROL = [
    ("not an object", "bad_request"),
    (["a", "list"], "bad_request"),
    (None, "bad_request"),
    ({"type": "request", "op": "list", "req_id": "r1"}, "bad_version"),
    ({"v": 2, "type": "request", "op": "list", "req_id": "r1"}, "bad_version"),
    ({"v": 1, "type": "subscribe", "req_id": "r1"}, "unknown_type"),
    ({"v": 1, "type": "request", "op": "explode", "req_id": "r1"}, "unknown_op"),
    ({"v": 1, "type": "request", "op": "list"}, "bad_request"),
    ({"v": 1, "type": "request", "op": "list", "req_id": 7}, "bad_request"),
    ({"v": 1, "type": "request", "op": "list", "req_id": "x" * 201}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill", "req_id": "r1"}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill", "req_id": "r1", "uid": 12}, "bad_request"),
    ({"v": 1, "type": "request", "op": "get", "req_id": "r1", "uid": "u" * 65}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill_all", "req_id": "r1", "group": ["g"]}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill_many", "req_id": "r1"}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill_many", "req_id": "r1", "uids": []}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill_many", "req_id": "r1", "uids": "abc"}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill_many", "req_id": "r1", "uids": ["a", 7]}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill_many", "req_id": "r1", "uids": ["u" * 65]}, "bad_request"),
    ({"v": 1, "type": "request", "op": "kill_many", "req_id": "r1", "uids": ["a"] * 1001}, "bad_request"),
]
MALFORMED_EVENTS = [
    ("resync", "bad_request"),
    ({"type": "resync"}, "bad_version"),
    ({"v": 1, "type": "snapshot", "seq": 0, "jobs": []}, "unknown_type"),
    ({"v": 1}, "unknown_type"),
]


def test_malformed_messages_get_error_replies_and_jobs_keep_running(endpoint: Endpoint) -> None:
    endpoint.kernel.stdout("import time")
    endpoint.kernel.stdout("%job time.sleep(1.5) or 'done'")
    for data, code in MALFORMED_CONTROL:
        endpoint.comms.message(endpoint.control, data)
        reply = endpoint.comms.next(endpoint.control, lambda data: data.get("type") == "reply")
        assert reply["ok"] is False, data
        assert reply["error"]["code"] == code, (data, reply)
        assert reply["req_id"] == (
            data.get("req_id") if isinstance(data, dict) and data.get("req_id") == "r1" else None
        )
    for data, code in MALFORMED_EVENTS:
        endpoint.comms.message(endpoint.events, data)
        error = endpoint.push(lambda data: data.get("type") == "error")
        assert error["error"]["code"] == code, (data, error)
        assert "seq" not in error
    # A message with no data at all, on the route and on the shell.
    endpoint.comms.send("comm_msg", {"comm_id": endpoint.control})
    assert endpoint.comms.next(endpoint.control, lambda data: data.get("type") == "reply")["error"]["code"] == (
        "bad_request"
    )

    assert endpoint.kernel.value("jobs[0].status") == "running"
    assert endpoint.kernel.wait_for("jobs[0].status", "finished") == "finished"
    assert endpoint.kernel.value("jobs[0].result") == "done"
    assert endpoint.comms.request(endpoint.control, "list")["jobs"][0]["status"] == "finished"


def test_an_open_with_another_version_is_refused_and_closed(endpoint: Endpoint) -> None:
    for target in protocol.TARGETS:
        comm_id = endpoint.comms.open(target, {"v": 99})
        error = endpoint.comms.next(comm_id, lambda data: True)
        assert error["error"]["code"] == "bad_version"
        assert endpoint.comms.wait_closed(comm_id)
    # The comms opened before still work.
    assert endpoint.comms.request(endpoint.control, "list")["ok"] is True


# Not on a subshell: there ipykernel 7.4 makes each request the parent of the threads' output.
@pytest.mark.parametrize(
    "endpoint", [("python3", "control"), ("python3-ipk6", "control")], ids=["python3", "python3-ipk6"], indirect=True
)
def test_requests_on_the_control_channel_leave_thread_output_in_its_cell(endpoint: Endpoint) -> None:
    cell = endpoint.kernel.client.execute(
        "import threading, time\n"
        "def talk():\n"
        "    for i in range(10):\n"
        "        print('tick', i, flush=True)\n"
        "        time.sleep(0.1)\n"
        "threading.Thread(target=talk).start()\n"
        "time.sleep(1.5)"
    )
    time.sleep(0.25)
    for _ in range(5):
        assert endpoint.comms.request(endpoint.control, "list")["ok"] is True
    ticks = 0
    deadline = time.monotonic() + 10
    while ticks < 10 and time.monotonic() < deadline:
        msg = endpoint.kernel.client.get_iopub_msg(timeout=5)
        if msg["header"]["msg_type"] == "stream" and msg["parent_header"].get("msg_id") == cell:
            ticks += msg["content"]["text"].count("tick")
    assert ticks == 10


def test_a_printing_job_is_pushed_a_few_times_a_second_and_its_last_output_soon(endpoint: Endpoint) -> None:
    endpoint.kernel.stdout("import time")
    endpoint.kernel.stdout(
        "%%job -n talker\n"
        "for i in range(150):\n"
        "    print('line', i)\n"
        "    time.sleep(0.01)\n"
        "print('last words')\n"
        "time.sleep(2)"
    )
    began = time.monotonic()
    talker: list[tuple[float, dict[str, Any]]] = []
    while not talker or talker[-1][1]["status"] != "finished":
        update = endpoint.push(lambda data: data["type"] == "update", timeout=15)
        talker.extend((time.monotonic() - began, job) for job in update["jobs"] if job["name"] == "talker")
    # About 2 s of output, 1.5 of them printing every 10 ms: 50 pushes a
    # second without holding back, 4 with it (plus the changes of status).
    assert len(talker) <= 16, [job["status"] for _, job in talker]
    last_words, first_with_them = next((when, job) for when, job in talker if "last words" in job["output_tail"])
    assert first_with_them["status"] == "running"
    finished = talker[-1][1]
    assert finished["status"] == "finished"
    assert finished["output_tail"].endswith("line 149\nlast words\n")
    assert last_words < talker[-1][0] - 1.0  # pushed long before the job ended
