"""Untrusted content from jobs, through a real server and real kernels.

Job code, names, output, progress, tracebacks and results may hold markup,
terminal escapes, megabytes, and text that is not valid Unicode (Python
strings can hold lone surrogates; UTF-8 cannot). Whatever a job holds, the
kernel keeps running, the server keeps hearing of every job, and REST serves
each text as JSON text, bounded:

=============  ============================================  ===================
field          bound (``protocol``)                          clipped to
=============  ============================================  ===================
code           ``MAX_CODE`` = 20 000 characters              the start + "…"
name, group    ``MAX_NAME`` = 200                            the start + "…"
result_repr    ``MAX_REPR`` = 2 000 (reprlib at the source)  start "..." end
error.evalue   ``MAX_REPR`` = 2 000                          the start + "…"
traceback      ``MAX_TRACEBACK`` = 40 000, a line 10 000     the last lines
output_tail    ``MAX_OUTPUT_TAIL`` = 8 000                   the last characters
=============  ============================================  ===================

A lone surrogate travels as its escape written out: ``"\\ud800"`` (6 characters).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_bgjobs import protocol

from .conftest import KERNELS
from .server_helpers import Api, Fetch, KernelTab, Notebooks

MARKUP = "<img src=x onerror=alert(1)><script>alert(2)</script>"
ANSI = "\x1b[31mred\x1b[0m \x1b]0;title\x07"
HOSTILE = MARKUP + ANSI


async def hostile_notebook(api: Api, notebooks: Notebooks, kernel_name: str = "python3") -> tuple[KernelTab, str]:
    """A kernel of the server (with a notebook session), ready, and a tab to run code in it."""
    kernel_id, tab = await notebooks.open("hostile.ipynb", kernel_name)
    await api.wait_for_kernel(kernel_id)
    return tab, kernel_id


async def settled(api: Api, kernel_id: str, names: set[str], timeout: float = 60) -> dict[str, dict[str, Any]]:
    """The jobs of the kernel by name, once each of ``names`` has ended."""

    def ended(jobs: list[dict[str, Any]]) -> bool:
        done = {job["name"] for job in jobs if job["ended"] is not None}
        return names <= done

    jobs = await api.wait_for_jobs(ended, timeout=timeout, kernel_id=kernel_id, limit="1000")
    return {job["name"]: job for job in jobs}


async def served_as_json(jp_fetch: Fetch, *route: str) -> Any:
    """GET a route; check the answer is JSON text (not HTML) and return it parsed."""
    response = await jp_fetch("jupyter-bgjobs", *route)
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # no sniffing it as HTML
    assert b"\x1b" not in response.body  # control characters travel as \u001b escapes
    return json.loads(response.body.decode("utf-8"))  # strict UTF-8


async def test_markup_and_terminal_escapes_are_served_as_text(jp_fetch: Fetch, api: Api, notebooks: Notebooks) -> None:
    kernel, kernel_id = await hostile_notebook(api, notebooks)
    await kernel.run(
        f"import sys\nhostile = {HOSTILE!r}\n"
        "def shout():\n    print(hostile)\n    return hostile\n"
        "def fail():\n    print(hostile, file=sys.stderr)\n    raise ValueError(hostile)\n"
        "jobs.new(shout, name=hostile)\n"
        "jobs.new(fail, name='fail ' + hostile)\n"
    )
    await kernel.run(f"%%job -n cell\nx = 1  # {HOSTILE}\nx + 1\n")
    jobs = await settled(api, kernel_id, {HOSTILE, "fail " + HOSTILE, "cell"})

    shout = jobs[HOSTILE]
    assert (shout["status"], shout["code"], shout["output_tail"]) == ("finished", "shout()", HOSTILE + "\n")
    assert shout["result_repr"] == repr(HOSTILE)  # the repr escapes the control characters itself
    failed = jobs["fail " + HOSTILE]
    assert (failed["status"], failed["output_tail"]) == ("failed", HOSTILE + "\n")
    assert (failed["error"]["ename"], failed["error"]["evalue"]) == ("ValueError", HOSTILE)
    assert failed["error"]["traceback"][-1] == f"ValueError: {HOSTILE}\n"
    assert failed["error"]["traceback"][-2].endswith("    raise ValueError(hostile)\n")
    cell = jobs["cell"]
    assert (cell["status"], cell["code"], cell["result_repr"]) == ("finished", f"x = 1  # {HOSTILE}\nx + 1", "2")

    page = await served_as_json(jp_fetch, "jobs")
    assert {job["name"]: job for job in page["jobs"]} == jobs
    one = await served_as_json(jp_fetch, "jobs", failed["uid"])
    assert one["error"] == failed["error"]
    assert one["name"] == "fail " + HOSTILE


async def test_ten_megabytes_are_stored_and_served_bounded(jp_fetch: Fetch, api: Api, notebooks: Notebooks) -> None:
    kernel, kernel_id = await hostile_notebook(api, notebooks)
    await kernel.run(
        "def loud():\n    print('x' * 10_000_000)\n    print('END')\n    return 'z' * 10_000_000\n"
        "def huge_error():\n    raise ValueError('y' * 10_000_000)\n"
        "jobs.new(loud, name='loud')\n"
        "jobs.new(huge_error, name='huge error')\n"
        "jobs.new(lambda: None, name='n' * 10_000_000)\n"
        "jobs.new(repr('c' * 30_000), name='long code')\n"
    )
    jobs = await settled(api, kernel_id, {"loud", "huge error", "n" * 199 + "…", "long code"})

    loud = jobs["loud"]
    # The last 8000 characters printed, exactly.
    assert loud["output_tail"] == "x" * 7995 + "\nEND\n"
    # reprlib at the source: the start and the end of the string, 2000 characters in all.
    assert loud["result_repr"] == "'" + "z" * 997 + "..." + "z" * 998 + "'"
    assert len(loud["result_repr"]) == protocol.MAX_REPR
    error = jobs["huge error"]["error"]
    assert error["evalue"] == "y" * 1999 + "…"
    # The line that holds the message is cut to a quarter of the traceback's bound.
    assert error["traceback"][-1] == ("ValueError: " + "y" * 9987) + "…"
    assert len(error["traceback"][-1]) == protocol.MAX_TRACEBACK // 4
    assert sum(map(len, error["traceback"])) <= protocol.MAX_TRACEBACK
    assert jobs["n" * 199 + "…"]["status"] == "finished"
    long_code = jobs["long code"]
    assert long_code["code"] == "'" + "c" * 19998 + "…"
    assert len(long_code["code"]) == protocol.MAX_CODE
    assert long_code["result_repr"] == "'" + "c" * 997 + "..." + "c" * 998 + "'"

    page = await served_as_json(jp_fetch, "jobs")
    assert len(page["jobs"]) == 4
    assert await served_as_json(jp_fetch, "jobs", loud["uid"]) == loud
    # The kernel's own copy of the output is bounded too (1 MB), and the kernel goes on.
    assert await kernel.value("[len(jobs[0].output), jobs[0].output[-4:]]") == [1_000_000, "END\n"]


@pytest.mark.parametrize("kernel_name", KERNELS)
async def test_text_that_is_not_unicode_does_not_stop_the_kernel_or_its_jobs(
    jp_fetch: Fetch, kernel_name: str, api: Api, notebooks: Notebooks
) -> None:
    kernel, kernel_id = await hostile_notebook(api, notebooks, kernel_name)
    # The cell itself is ASCII (a message cannot carry a lone surrogate): the
    # jobs make the bad strings at run time.
    await kernel.run(
        "import jupyter_bgjobs\n"
        "def surrogates():\n"
        "    print('out \\ud800 and', b'\\xff'.decode('utf-8', 'surrogateescape'))\n"
        "    jupyter_bgjobs.report(1, 2, desc='desc \\ud800')\n"
        "    raise ValueError('bad \\ud800')\n"
        "def weird():\n    return 'res \\ud800'\n"
        "weird.__qualname__ = 'weird\\ud800'\n"
        "class Unprintable(Exception):\n    def __str__(self):\n        raise RuntimeError('no str')\n"
        "def unprintable():\n    raise Unprintable()\n"
        "jobs.new(surrogates, name='name \\ud800')\n"
        "jobs.new(weird, name='weird')\n"
        "jobs.new(lambda: b'\\xff\\xfe', name='bytes')\n"
        "jobs.new(lambda: b'\\xff'.decode('utf-8', 'surrogateescape'), name='escaped')\n"
        "jobs.new(unprintable, name='unprintable')\n"
    )
    jobs = await settled(api, kernel_id, {"name \\ud800", "weird", "bytes", "escaped", "unprintable"})

    bad = jobs["name \\ud800"]
    assert bad["status"] == "failed"
    assert bad["output_tail"] == "out \\ud800 and \\udcff\n"
    assert bad["progress"] == {"done": 1, "total": 2, "desc": "desc \\ud800"}
    assert (bad["error"]["ename"], bad["error"]["evalue"]) == ("ValueError", "bad \\ud800")
    assert bad["error"]["traceback"][-1] == "ValueError: bad \\ud800\n"
    weird = jobs["weird"]
    assert (weird["code"], weird["result_repr"]) == ("weird\\ud800()", "'res \\ud800'")
    assert jobs["bytes"]["result_repr"] == "b'\\xff\\xfe'"
    assert jobs["escaped"]["result_repr"] == "'\\udcff'"
    # An exception whose str() fails still ends its job (it used to stay running).
    unprintable = jobs["unprintable"]
    assert unprintable["status"] == "failed"
    assert (unprintable["error"]["ename"], unprintable["error"]["evalue"]) == (
        "Unprintable",
        "<exception str() failed>",
    )
    assert unprintable["error"]["traceback"][-1] == "Unprintable: <exception str() failed>\n"
    page = await served_as_json(jp_fetch, "jobs")
    assert len(page["jobs"]) == 5

    # The kernel goes on, and so does the events comm: a later job appears.
    assert await kernel.value("[j.status for j in jobs.list()]") == [
        "failed",
        "finished",
        "finished",
        "finished",
        "failed",
    ]
    await kernel.run("%job -n after 6 * 7")
    after = (await settled(api, kernel_id, {"after"}))["after"]
    assert (after["status"], after["result_repr"]) == ("finished", "42")


async def test_values_the_record_cannot_carry_are_refused_where_they_are_given(api: Api, notebooks: Notebooks) -> None:
    # A name or a progress the protocol does not take used to reach the job
    # record, and the server refused each push that carried it: the kernel's
    # other jobs stopped being heard of. Now the call that gives it fails.
    kernel, kernel_id = await hostile_notebook(api, notebooks)
    await kernel.run(
        "import jupyter_bgjobs\n"
        "errors = []\n"
        "for call in (lambda: jobs.new(lambda: 1, name=123), lambda: jobs.map(abs, [1], name=('g',)),\n"
        "             lambda: jupyter_bgjobs.report('half'), lambda: jupyter_bgjobs.report(1, float('nan')),\n"
        "             lambda: jupyter_bgjobs.report(1, 2, desc=3)):\n"
        "    try:\n"
        "        call()\n"
        "    except TypeError as error:\n"
        "        errors.append(str(error))\n"
        "def reports_nonsense():\n"
        "    jupyter_bgjobs.report(float('inf'), 10)\n"
        "jobs.new(reports_nonsense, name='nonsense')\n"
        "jobs.new(lambda: 'fine', name='fine')\n"
    )
    assert await kernel.value("errors") == [
        "a job's name must be a string or None, not int",
        "a job's name must be a string or None, not tuple",
        "progress: done must be a finite number, not 'half'",
        "progress: total must be a finite number or None, not nan",
        "progress: desc must be a string or None, not int",
    ]
    jobs = await settled(api, kernel_id, {"nonsense", "fine"})
    assert set(jobs) == {"nonsense", "fine"}  # no job was made by the refused calls
    assert jobs["nonsense"]["error"]["evalue"] == "progress: done must be a finite number, not inf"
    assert jobs["fine"]["result_repr"] == "'fine'"


def wire_record(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "uid": "5f0c2a9e17b4d3c8-2a",
        "number": 0,
        "name": None,
        "code": "1",
        "kind": "expr",
        "status": "finished",
        "group": None,
        "created": 1.0,
        "started": 1.0,
        "ended": 2.0,
        "result_repr": "1",
        "error": None,
        "output_tail": "",
        "progress": None,
        "kill_requested": False,
        "blocked_in": None,
    }
    return {**record, **fields}


def test_the_server_stores_only_encodable_text_whatever_a_kernel_sends() -> None:
    # JSON escapes carry lone surrogates too: json.loads (as the relay's
    # session unpacks) turns "\ud800" into one. The server must neither store
    # nor write them to SQLite as they are.
    record = wire_record(
        name="n\ud800",
        code="c\udcff",
        group="g\ud800",
        result_repr="r\ud800",
        output_tail="o\ud800",
        blocked_in="b\ud800",
        progress={"done": 1, "total": None, "desc": "d\ud800"},
        error={"ename": "E\ud800", "evalue": "v\ud800", "traceback": ["t\ud800\n"]},
    )
    data = json.loads(json.dumps({"v": 1, "type": "update", "seq": 1, "jobs": [record]}))
    job = protocol.parse_push(data)["jobs"][0]
    assert {key: job[key] for key in ("name", "code", "group", "result_repr", "output_tail", "blocked_in")} == {
        "name": "n\\ud800",
        "code": "c\\udcff",
        "group": "g\\ud800",
        "result_repr": "r\\ud800",
        "output_tail": "o\\ud800",
        "blocked_in": "b\\ud800",
    }
    assert job["progress"]["desc"] == "d\\ud800"
    assert job["error"] == {"ename": "E\\ud800", "evalue": "v\\ud800", "traceback": ["t\\ud800\n"]}
    json.dumps(job, ensure_ascii=False).encode("utf-8")  # strict UTF-8: no surrogate left
    # The escapes are longer than the character: the bounds still hold.
    long = protocol.parse_push({"v": 1, "type": "snapshot", "seq": 0, "jobs": [wire_record(name="\ud800" * 300)]})
    assert long["jobs"][0]["name"] == "\\ud800" * 33 + "\\" + "…"
    assert len(long["jobs"][0]["name"]) == protocol.MAX_NAME


@pytest.mark.parametrize("uid", ["", "a" * 65, "abc\ud800", "../etc", "a b", "x/y", "é"])
def test_the_server_refuses_uids_that_rest_cannot_address(uid: str) -> None:
    with pytest.raises(protocol.ProtocolError, match="job uid must be 1 to 64 letters, digits"):
        protocol.validate_job(wire_record(uid=uid))
    with pytest.raises(protocol.ProtocolError, match="removed must be a list of uids"):
        protocol.parse_push({"v": 1, "type": "update", "seq": 1, "jobs": [], "removed": [uid]})
