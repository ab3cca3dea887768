"""The demo notebook runs top to bottom in a real kernel, offline, and shows what it says it shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .kernel_session import KernelSession

DEMO = Path(__file__).parent.parent / "examples" / "demo.ipynb"


def code_cells() -> list[str]:
    notebook = json.loads(DEMO.read_text())
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def shown(outputs: list[dict[str, Any]]) -> str:
    """What a cell showed: its streams and its result, as text."""
    parts = []
    for msg in outputs:
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "stream":
            parts.append(content["text"])
        elif kind == "execute_result":
            parts.append(content["data"]["text/plain"])
    return "".join(parts)


def test_demo_notebook_runs_top_to_bottom(kernel: KernelSession) -> None:
    cells: dict[str, str] = {}  # first line of each cell -> its msg_id
    for source in code_cells():
        reply, _ = kernel.execute(source, timeout=60)
        assert reply["status"] == "ok", f"{reply.get('ename')}: {reply.get('evalue')} in\n{source}"
        cells[source.splitlines()[0]] = kernel.last_msg_id
    # What each cell shows in the end, as in a notebook: a job's print may be
    # flushed to its cell after that cell went idle (ipykernel flushes a
    # thread's stream output up to 0.2 s later), so read every cell's outputs
    # only once the last cell ran, and then some.
    kernel.execute("import time; time.sleep(0.5)")
    seen: dict[str, str] = {}
    for first_line, msg_id in cells.items():
        outputs = kernel.outputs(msg_id)
        errors = [msg for msg in outputs if msg["header"]["msg_type"] == "error"]
        errors += [
            msg for msg in outputs if msg["header"]["msg_type"] == "stream" and msg["content"]["name"] == "stderr"
        ]
        assert errors == [], first_line
        seen[first_line] = shown(outputs)

    assert seen["%job -n first fetch_title(urls[1])"] == "Started job 0 (first).\n"
    assert seen["jobs[0].wait(10)"] == "'Page 1: charlie juliett bravo'"
    assert seen["results = titles.results(timeout=60)  # waits for the pool"] == (
        "<JobGroup titles failed: 1000/1000 items, 1 failed, 16 jobs>\n"
        "['Page 0: golf mike alpha',\n 'Page 1: charlie juliett bravo',\n 'Page 2: alpha bravo lima']"
    )
    assert seen["titles.failures"] == "{666: <ItemFailure item 666: HTTPError: HTTP Error 500: this page is broken>}"
    assert seen["print(titles.failures[666].traceback)"].endswith(
        "urllib.error.HTTPError: HTTP Error 500: this page is broken\n\n"
    )
    # Printed once by the job, and once more in the repr of words_job.output.
    assert seen["words_job = jobs.list()[-1]"].count("most common: ") in (1, 2)
    everywhere = "".join(shown(kernel.outputs(msg_id)) for msg_id in cells.values())
    assert everywhere.count("most common: ") == 2, everywhere
    if kernel.kernel_name == "python3":
        # ipykernel 7.4+ shows a job's print under the cell that started it.
        # ipykernel 6 picks the cell by thread id, and keeps the ids of dead
        # threads until a garbage collection: a job thread that reuses the id
        # of a thread the notebook's web server started shows its print
        # under that server's cell (docs/kernel.md).
        assert seen["%%job -n words"].count("most common: ") == 1
    assert seen['slow = jobs.map(fetch_title, [f"{base}/slow/{n}" for n in range(1000)], workers=8, name="slow")'] == (
        "".join(f"Job {number} killed.\n" for number in range(18, 26))
    )
    killed = re.fullmatch(
        r"\('killed',\s+(\d+),\s+\[('killed',\s*){7}'killed'\]\)",
        seen["fetched = [title for title in slow.results() if title is not None]"],
    )
    assert killed is not None
    assert 500 <= int(killed.group(1)) < 1000  # killed half way: the pages not fetched stay None
    assert seen['missing = jobs.new(fetch_title, f"{base}/missing", name="missing page")'] == (
        "('failed', 'HTTPError', 'HTTP Error 404: Not Found')"
    )
    assert seen["missing.traceback()"].endswith("urllib.error.HTTPError: HTTP Error 404: Not Found")
    assert seen['sleeper = jobs.new(time.sleep, 60, name="sleeper")'] == "Job 27 killed.\n"
    assert seen["jobs.flush(), server.shutdown()"] == "(28, None)"
