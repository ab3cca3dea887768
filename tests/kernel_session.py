"""A real IPython kernel driven through jupyter_client, for the kernel-side tests."""

from __future__ import annotations

import json
import time
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient


class KernelSession:
    """Runs code in a kernel and reads back what the user would see."""

    def __init__(self, client: BlockingKernelClient) -> None:
        self.client = client

    def execute(self, code: str, timeout: float = 30) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run ``code``; the execute_reply content and the IOPub outputs of that cell."""
        outputs: list[dict[str, Any]] = []
        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=outputs.append, allow_stdin=False)
        return reply["content"], [msg for msg in outputs if msg["header"]["msg_type"] != "status"]

    def stdout(self, code: str) -> str:
        """Run ``code``; what it printed on stdout (fails on an error)."""
        reply, outputs = self.execute(code)
        assert reply["status"] == "ok", reply
        return "".join(
            msg["content"]["text"]
            for msg in outputs
            if msg["header"]["msg_type"] == "stream" and msg["content"]["name"] == "stdout"
        )

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

    def value(self, expr: str) -> Any:
        """The value of ``expr`` in the kernel, through JSON."""
        out = self.stdout(f"import json as _json; print(_json.dumps(({expr})))")
        return json.loads(out.strip().splitlines()[-1])

    def wait_for(self, expr: str, expected: Any, timeout: float = 10) -> Any:
        """Poll ``expr`` until it equals ``expected``; its last value."""
        deadline = time.monotonic() + timeout
        value = self.value(expr)
        while value != expected and time.monotonic() < deadline:
            time.sleep(0.05)
            value = self.value(expr)
        return value
