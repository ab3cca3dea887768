"""Bounded text that a message can carry: clipped to a limit, and encodable as UTF-8.

Job records carry text from user code (output, reprs, tracebacks); ``protocol``
applies these to every string it sends or receives, and re-exports them.
"""

from __future__ import annotations


def clip(text: str, limit: int) -> str:
    """Keep the end of ``text`` (the most recent part) within ``limit`` characters."""
    if len(text) <= limit:
        return text
    return "\u2026" + text[-(limit - 1) :]


def clip_head(text: str, limit: int) -> str:
    """Keep the start of ``text`` within ``limit`` characters."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "\u2026"


def encodable(text: str) -> str:
    """``text`` as UTF-8 can carry it: each lone surrogate becomes its escape, ``\\ud800``.

    Python strings may hold lone surrogates (``"\\ud800"``, or bytes decoded
    with ``surrogateescape``); jupyter_client's JSON packer refuses them, so
    one such character would stop every message that carries its job. Text
    that encodes pays one check; only text that does not is copied.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def wire_head(text: str, limit: int) -> str:
    """The start of ``text``, encodable, within ``limit`` characters (escapes are longer)."""
    return clip_head(encodable(clip_head(text, limit)), limit)


def wire_tail(text: str, limit: int) -> str:
    """The end of ``text``, encodable, within ``limit`` characters."""
    return clip(encodable(clip(text, limit)), limit)
