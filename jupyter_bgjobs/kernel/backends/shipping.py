"""What travels to a worker besides a function: expressions with the globals they name, and source lines.

A ``%job --on process EXPR`` (or ``jobs.new("EXPR", on="process")``) runs in
another process, where the notebook's namespace does not exist: the names the
expression uses are looked up in the namespace *now* and copied along
(globals are copied at submit time; changes made later are not seen, and
nothing the job does changes the notebook's variables).
"""

from __future__ import annotations

import builtins
import linecache
import pickle
from collections.abc import Callable, Iterator
from types import CodeType
from typing import Any

import cloudpickle

from ..code import describe_function
from .base import Work


def _names(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):  # lambdas and comprehensions inside the expression
            yield from _names(const)


def expression_work(expr: str, filename: str, namespace: dict[str, Any], local_ns: dict[str, Any] | None) -> Work:
    """The work of evaluating ``expr`` elsewhere: the expression and the values of the names it uses."""
    code = compile(expr, filename, "eval")  # a SyntaxError raises here, in the caller
    scopes = [namespace] if local_ns is None or local_ns is namespace else [local_ns, namespace]
    shipped: dict[str, Any] = {}
    for name in dict.fromkeys(_names(code)):
        for scope in scopes:
            if name in scope:
                shipped[name] = scope[name]
                break
    return Work(evaluate, (expr, filename, shipped), label=expr)


def evaluate(expr: str, filename: str, shipped: dict[str, Any]) -> Any:
    """In the worker: evaluate ``expr`` with the shipped names as its globals."""
    linecache.cache[filename] = (len(expr), None, [expr + "\n"], filename)
    namespace = {"__builtins__": builtins, **shipped}
    return eval(compile(expr, filename, "eval"), namespace)


def source_lines(func: Callable[..., Any]) -> dict[str, list[str]]:
    """The lines of the cell that defined ``func`` (a notebook's cells live in the kernel's linecache only)."""
    code = getattr(func, "__code__", None)
    if code is None:
        return {}
    entry: Any = linecache.cache.get(code.co_filename)
    if entry is None or len(entry) != 4 or entry[1] is not None:  # not cached, or a real file the worker reads
        return {}
    return {code.co_filename: list(entry[2])}


def remember_sources(func: Callable[..., Any], sources: dict[str, list[str]]) -> None:
    """In the worker: make tracebacks show the shipped cell's lines.

    cloudpickle names the file of every code it ships ``<dynamic-code>``;
    the job's own function gets its cell's name back, so that its frames
    show the cell's lines.
    """
    for filename, lines in sources.items():
        linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
        code = getattr(func, "__code__", None)
        if code is not None and code.co_filename == "<dynamic-code>":
            func.__code__ = _renamed(code, filename)


def _renamed(code: CodeType, filename: str) -> CodeType:
    consts = tuple(_renamed(const, filename) if isinstance(const, CodeType) else const for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def pickle_work(work: Work, on: str, where: str) -> bytes:
    """``work`` and its cell's lines, pickled with cloudpickle; a clear ``TypeError`` if it cannot be sent."""
    what = work.label if work.items is None and work.label else describe_function(work.func)
    try:
        payload: bytes = cloudpickle.dumps((work, source_lines(work.func)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        raise TypeError(
            f"on={on!r}: cannot send {what} and what it uses to {where} "
            f"({type(error).__name__}: {error}); everything a {on} job uses is pickled with cloudpickle: "
            "locks, open files, sockets and generators cannot be (see docs/backends.md)"
        ) from error
    return payload
