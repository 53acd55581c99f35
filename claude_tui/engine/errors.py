"""Classify what went wrong in an attempt: a kind, a plain message, and whether to retry.

The policy (issue #2): retry 408, 409, 429, 5xx, 529, mid-stream errors, disconnects, stalls and
truncated streams; never retry 400, 401, 402, 403, 404, 413 or a spend-limit 429.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .events import ErrorKind, Usage
from .ratelimits import parse_retry_after

if TYPE_CHECKING:  # the SDK takes over a second to import: only classify() needs it, at run time
    import anthropic

_STATUS_KINDS: dict[int, ErrorKind] = {
    400: "bad_request",
    401: "authentication",
    402: "billing",
    403: "permission",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    413: "too_large",
    429: "rate_limit",
    529: "overloaded",
}

RETRYABLE_KINDS: frozenset[ErrorKind] = frozenset(
    {"rate_limit", "overloaded", "server_error", "timeout", "conflict", "stream_error", "disconnect", "connection",
     "stall", "truncated", "protocol"}
)

#: The same request would be refused again (a prompt too long, max_tokens too big): offering to
#: retry it as it is only spends another request.
WILL_FAIL_AGAIN: frozenset[ErrorKind] = frozenset({"bad_request", "too_large"})

#: What a person should do about an error that will not go away by retrying.
HINTS: dict[ErrorKind, str] = {
    "authentication": "check ANTHROPIC_API_KEY",
    "permission": "this key may not use that model or feature",
    "billing": "check the account's billing",
    "not_found": "unknown model: pick another with the model command",
    "not_api": "check ANTHROPIC_BASE_URL (unset it for the API)",
    "connection": "check the network and ANTHROPIC_BASE_URL",
    "too_large": "the request is too large: shorten the conversation or the prompt",
    "spend_limit": "the workspace spend limit is reached",
    "bad_request": "the API rejected the request",
}


@dataclass(slots=True)
class AttemptError(Exception):
    """One failed attempt, classified. Carries what it streamed so nothing is dropped."""

    kind: ErrorKind
    message: str
    status_code: int | None = None
    retry_after: float | None = None
    request_id: str | None = None
    partial_text: str = ""
    partial_thinking: str = ""
    usage: Usage = field(default_factory=Usage)

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def __str__(self) -> str:
        return self.message


def _api_message(exc: "anthropic.APIStatusError") -> tuple[str | None, str]:
    """(error.type, error.message) from the error body, falling back to the exception text."""
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return err.get("type"), str(err.get("message") or exc.message)
    return None, str(exc.message)


def _is_spend_limit(exc: "anthropic.APIStatusError") -> bool:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        details = err.get("details") if isinstance(err, dict) else None
        if isinstance(details, dict) and details.get("error_code") == "enforced_spend_limit_reached":
            return True
    return False


def stream_error(data: str) -> AttemptError:
    """An ``error`` event in the middle of a stream (its data should be the API's error body)."""
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    err = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(err, dict):
        error_type, message = err.get("type"), str(err.get("message") or data)
    else:
        error_type, message = None, data or "no details"
    return AttemptError("stream_error", f"stream interrupted by {error_type or 'an error'}: {message}")


def _is_transport_error(exc: BaseException) -> bool:
    """httpx-family errors that escape the SDK mid-stream (the SDK wraps only the request phase)."""
    return any(cls.__module__.split(".")[0] in ("httpx", "httpx2", "httpcore", "anyio") for cls in type(exc).__mro__[:-2])


def classify(exc: BaseException) -> AttemptError:
    """Turn whatever an attempt raised into an AttemptError."""
    if isinstance(exc, AttemptError):
        return exc
    import anthropic
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        error_type, message = _api_message(exc)
        headers = exc.response.headers if exc.response is not None else {}
        retry_after = parse_retry_after(headers)
        request_id = exc.request_id if hasattr(exc, "request_id") else None
        if status == 200:  # an `error` event in the middle of a stream
            kind: ErrorKind = "stream_error"
            message = f"stream interrupted by {error_type or 'an error'}: {message}"
        elif status == 429 and _is_spend_limit(exc):
            kind = "spend_limit"
        elif status in _STATUS_KINDS:
            kind = _STATUS_KINDS[status]
        elif status >= 500:
            kind = "server_error"
        else:
            kind = "unknown"
        label = f"{error_type} ({status})" if error_type and status != 200 else (f"HTTP {status}" if status != 200 else "")
        text = f"{label}: {message}" if label else message
        return AttemptError(kind, text, status_code=status if status != 200 else None, retry_after=retry_after, request_id=request_id)
    if isinstance(exc, anthropic.APITimeoutError):
        return AttemptError("timeout", "request timed out")
    if isinstance(exc, anthropic.APIConnectionError):  # raised before any response: nothing answered
        cause = exc.__cause__ or exc.__context__
        detail = f": {cause}" if cause and str(cause) else ""
        return AttemptError("connection", f"connection failed{detail}")
    if isinstance(exc, json.JSONDecodeError):  # an SSE event whose data is not JSON
        return AttemptError("protocol", f"the stream sent an event that is not valid JSON ({exc.msg})")
    if _is_transport_error(exc):
        return AttemptError("disconnect", f"connection dropped mid-reply ({type(exc).__name__})")
    return AttemptError("unknown", f"{type(exc).__name__}: {exc}")


#: Where a front end's own words differ (``run`` has flags, the app has commands).
_RUN_HINTS: dict[ErrorKind, str] = {
    "not_found": "unknown model: pick another with --model",
}


def hint_for(kind: ErrorKind, front_end: str = "tui") -> str | None:
    """What a person can do about ``kind``, in the words of the front end that shows it."""
    if front_end == "run" and kind in _RUN_HINTS:
        return _RUN_HINTS[kind]
    return HINTS.get(kind)
