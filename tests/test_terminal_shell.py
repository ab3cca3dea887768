"""The kernel side in a terminal IPython: %load_ext, %job, %kill, output, with no Jupyter around."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

IPYTHON = Path(sys.executable).with_name("ipython")

SESSION = """\
%load_ext jupyter_bgjobs
import time
%job -n nap time.sleep(60)
while jobs[0].status != "running": time.sleep(0.01)
%kill 0
print("status:", jobs[0].status, jobs[0].error["ename"])
%job print("hello from a job")
print("output:", repr(jobs[1].wait(5) and jobs[1].output))
%jobs
"""


def test_terminal_ipython_runs_job_and_kill() -> None:
    finished = subprocess.run(
        [str(IPYTHON), "--simple-prompt", "--no-banner", "--colors=NoColor", "--HistoryManager.enabled=False"],
        input=SESSION,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    out = finished.stdout
    assert "Started job 0 (nap).\n" in out
    assert "Job 0 killed.\n" in out
    assert "status: killed JobKilled\n" in out
    assert "Started job 1.\n" in out
    assert "hello from a job\n" in out  # printed in the terminal, as any print
    assert "output: 'hello from a job\\n'\n" in out  # and kept by the job
    assert "Dead jobs:\n    0  killed " in out
    assert "  nap  -> JobKilled: job killed on request\n" in out
    assert "Traceback" not in out + finished.stderr
