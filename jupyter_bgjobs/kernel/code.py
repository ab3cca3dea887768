"""Turning user code into the callable a job runs."""

from __future__ import annotations

import ast
import linecache
import reprlib
from collections.abc import Callable
from typing import Any

from .. import protocol


def job_filename(number: int) -> str:
    """The file name a job's code is compiled under, as tracebacks show it."""
    return f"<job {number}>"


def _remember_source(source: str, filename: str) -> None:
    # Tracebacks of the job then show its source lines, as for notebook cells.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def forget_source(number: int) -> None:
    """Drop a removed job's source lines (linecache keeps them otherwise for good)."""
    linecache.cache.pop(job_filename(number), None)


def compile_expression(
    expr: str, filename: str, namespace: dict[str, Any], local_ns: dict[str, Any] | None = None
) -> Callable[[], Any]:
    """A callable that evaluates ``expr``; raises SyntaxError at once."""
    code = compile(expr, filename, "eval")
    _remember_source(expr, filename)
    local_ns = namespace if local_ns is None else local_ns
    return lambda: eval(code, namespace, local_ns)


def compile_cell(source: str, filename: str, namespace: dict[str, Any]) -> Callable[[], Any]:
    """A callable that runs statements in ``namespace`` and returns the last expression's value."""
    tree = ast.parse(source, filename, "exec")
    tail = None
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        tree.body.pop()
        tail = compile(ast.Expression(last.value), filename, "eval")
    body = compile(tree, filename, "exec")
    _remember_source(source, filename)

    def run() -> Any:
        exec(body, namespace)
        return eval(tail, namespace) if tail is not None else None

    return run


def describe_call(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """``name(arg, key=value)`` for a job started with a callable (bounded)."""
    name = describe_function(func)
    parts = [_short_repr(arg) for arg in args] + [f"{key}={_short_repr(value)}" for key, value in kwargs.items()]
    return protocol.clip_head(f"{name}({', '.join(parts)})", protocol.MAX_CODE)


def describe_function(func: Callable[..., Any]) -> str:
    """The name a callable is known by."""
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or _short_repr(func)


# Arguments are shown in short: a list of a million items costs no more than ten.
_short = reprlib.Repr()
_short.maxstring = _short.maxother = _short.maxlong = 80
_short.maxlevel = 2


def _short_repr(value: Any) -> str:
    try:
        return protocol.clip_head(_short.repr(value), 80)
    except Exception:
        return f"<{type(value).__name__}>"
