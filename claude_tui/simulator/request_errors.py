"""The simulator's error answer, in a module of its own: validation, caching, tools and batches all
raise it, and validation imports caching and tools (so they cannot import it from there)."""

from __future__ import annotations


class RequestError(Exception):
    """An error answer: HTTP status, the API's ``error.type`` and a message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


def bad(message: str) -> RequestError:
    return RequestError(400, "invalid_request_error", message)
