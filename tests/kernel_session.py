"""A real IPython kernel driven through jupyter_client, for the kernel-side tests.

Every IOPub message is kept, so that a test can read what a cell showed
after it went idle: a job echoes its prints to the cell that started it,
long after that cell's execute_reply.
"""

from __future__ import annotations

import json
import queue
import time
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient


class KernelSession:
    """Runs code in a kernel and reads back what the user would see."""

    def __init__(self, client: BlockingKernelClient, kernel_name: str) -> None:
        self.client = client
        self.kernel_name = kernel_name
        self.iopub: list[dict[str, Any]] = []
        self.last_msg_id = ""
        self._idle: set[str] = set()  # cells whose execution has ended

    # --- running cells ----------------------------------------------------------

    def execute(self, code: str, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run ``code``; the execute_reply content and the IOPub outputs of that cell so far."""
        msg_id = self.client.execute(code, allow_stdin=False)
        self.last_msg_id = msg_id
        deadline = time.monotonic() + timeout
        while msg_id not in self._idle:
            self._read_iopub(deadline)
        while True:
            reply = self.client.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return reply["content"], self.outputs(msg_id)

    def _read_iopub(self, deadline: float) -> bool:
        """Read one IOPub message into the log; False if none came before ``deadline``."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the kernel did not answer in time")
        try:
            msg = self.client.get_iopub_msg(timeout=min(left, 0.1))
        except queue.Empty:
            return False
        self._keep(msg)
        return True

    def _keep(self, msg: dict[str, Any]) -> None:
        self.iopub.append(msg)
        if msg["header"]["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            self._idle.add(msg["parent_header"].get("msg_id", ""))

    def outputs(self, msg_id: str) -> list[dict[str, Any]]:
        """Every IOPub message (but status) sent on behalf of the cell ``msg_id``, so far."""
        while self._read_iopub_nowait():
            pass
        return [
            msg
            for msg in self.iopub
            if msg["parent_header"].get("msg_id") == msg_id and msg["header"]["msg_type"] != "status"
        ]

    def _read_iopub_nowait(self) -> bool:
        try:
            msg = self.client.get_iopub_msg(timeout=0)
        except queue.Empty:
            return False
        self._keep(msg)
        return True

    def stream_text(self, msg_id: str, name: str = "stdout") -> str:
        """All ``name`` stream text shown under the cell ``msg_id`` so far."""
        return "".join(
            msg["content"]["text"]
            for msg in self.outputs(msg_id)
            if msg["header"]["msg_type"] == "stream" and msg["content"]["name"] == name
        )

    def wait_for_stream(self, msg_id: str, text: str, timeout: float = 30, name: str = "stdout") -> str:
        """Read IOPub until ``text`` shows under the cell ``msg_id``; all its stream text by then."""
        deadline = time.monotonic() + timeout
        shown = self.stream_text(msg_id, name)
        while text not in shown and time.monotonic() < deadline:
            self._read_iopub(deadline)
            shown = self.stream_text(msg_id, name)
        return shown

    # --- reading results --------------------------------------------------------

    def stdout(self, code: str, timeout: float = 60) -> str:
        """Run ``code``; what it printed on stdout (fails on an error)."""
        reply, _ = self.execute(code, timeout)
        assert reply["status"] == "ok", f"{reply.get('ename')}: {reply.get('evalue')} in\n{code}"
        return self.stream_text(self.last_msg_id)

    def stderr_and_errors(self, code: str) -> tuple[dict[str, Any], str]:
        """Run ``code``; the reply and all error text it showed (stderr and error messages)."""
        reply, outputs = self.execute(code)
        text = ""
        for msg in outputs:
            kind = msg["header"]["msg_type"]
            if kind == "stream" and msg["content"]["name"] == "stderr":
                text += msg["content"]["text"]
            elif kind == "error":
                text += "\n".join(msg["content"]["traceback"])
        return reply, text

    def value(self, expr: str, timeout: float = 60) -> Any:
        """The value of ``expr`` in the kernel, through JSON."""
        out = self.stdout(f"import json as _json; print(_json.dumps(({expr})))", timeout)
        return json.loads(out.strip().splitlines()[-1])

    def wait_for(self, expr: str, expected: Any, timeout: float = 30) -> Any:
        """Poll ``expr`` until it equals ``expected``; its last value."""
        deadline = time.monotonic() + timeout
        value = self.value(expr)
        while value != expected and time.monotonic() < deadline:
            time.sleep(0.02)
            value = self.value(expr)
        return value

    def ended(self, job: str = "jobs[0]", timeout: float = 30) -> str:
        """Wait (in the kernel) until ``job`` ends; its status then."""
        status: str = self.value(f"({job}.wait({timeout}), {job}.status)[1]", timeout=timeout + 10)
        return status
