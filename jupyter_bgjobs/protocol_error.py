"""``ProtocolError``: a message that does not follow the protocol (``protocol.py`` re-exports it)."""

from __future__ import annotations


class ProtocolError(ValueError):
    """A message that does not follow this protocol; ``code`` is the error code of the reply."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
