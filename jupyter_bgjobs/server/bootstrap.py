"""Getting the jobs endpoint into a kernel: which kernels can have it, and loading it where it is missing.

The kernel extension is loaded by a silent ``execute_request`` on the main
shell whose user expression calls ``load_ipython_extension``: nothing is
printed or stored in the history, and a failure is reported to the relay only
(an import error becomes the ``unavailable`` reason a user reads).
"""

from __future__ import annotations

from typing import Any

from .transport import KernelTransport

LOAD_EXPRESSION = "__import__('jupyter_bgjobs').load_ipython_extension(get_ipython())"


def language_problem(kernel_info: dict[str, Any]) -> str:
    """Why a kernel cannot have background jobs, judged by its ``kernel_info`` ("" if it can)."""
    language = kernel_info.get("language_info", {}).get("name", "")
    if language == "python":
        return ""
    return f"background jobs need an IPython kernel, not {language or 'an unknown language'}"


async def load_kernel_extension(transport: KernelTransport) -> str:
    """Load jupyter_bgjobs into the kernel; what went wrong ("" if nothing)."""
    reply = await transport.call(
        "shell",
        "execute_request",
        {
            "code": "",
            "silent": True,
            "store_history": False,
            "user_expressions": {"bgjobs": LOAD_EXPRESSION},
            "allow_stdin": False,
            "stop_on_error": False,
        },
        None,  # the main shell may be running a long cell
    )
    result = reply.get("user_expressions", {}).get("bgjobs", {})
    if reply.get("status") == "ok" and result.get("status") == "ok":
        return ""
    ename, evalue = result.get("ename", reply.get("ename", "")), result.get("evalue", reply.get("evalue", ""))
    if ename in ("ModuleNotFoundError", "ImportError"):
        return f"jupyter_bgjobs is not installed in this kernel's environment ({ename}: {evalue})"
    return f"jupyter_bgjobs cannot load in this kernel: {ename}: {evalue}"
