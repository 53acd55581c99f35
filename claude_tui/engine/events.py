"""Typed events: everything that happens to a request, in one vocabulary.

The pool emits these to every listener (TUI, metrics, history, headless output), so no
consumer ever talks to the SDK. Times are ``time.monotonic()`` readings taken by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from .job import Job

# Why an attempt failed, in words a consumer can branch on.
ErrorKind: TypeAlias = Literal[
    "rate_limit",  # 429
    "overloaded",  # 529
    "server_error",  # 5xx
    "timeout",  # 408 or a request that timed out before any bytes
    "conflict",  # 409
    "stream_error",  # an `error` event mid-stream
    "disconnect",  # connection dropped mid-reply
    "connection",  # no connection at all (refused, DNS, reset before a response)
    "protocol",  # the stream is not valid SSE/JSON
    "not_api",  # the base URL answered, but not as the Anthropic API (an HTML page)
    "stall",  # no bytes for the stall timeout
    "truncated",  # the stream ended without message_stop, or without a stop_reason
    "bad_request",  # 400
    "authentication",  # 401
    "billing",  # 402
    "permission",  # 403
    "not_found",  # 404
    "too_large",  # 413
    "spend_limit",  # 429 with enforced_spend_limit_reached
    "unknown",
]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the API reports them (never counted from chunks)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    # The cache writes split by TTL (``usage.cache_creation`` in message_start): a 1-hour write costs
    # 2x input, a 5-minute one 1.25x. A reply without the split leaves both 0: every write is then
    # priced as 5-minute (``cache_write_1h_tokens``), the API's default TTL.
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0

    @property
    def cache_write_1h_tokens(self) -> int:
        """The 1-hour part of the cache writes, never more than the writes themselves."""
        return min(self.ephemeral_1h_input_tokens, self.cache_creation_input_tokens)

    @property
    def cache_write_5m_tokens(self) -> int:
        """The rest of the cache writes (all of them when the reply carried no split)."""
        return self.cache_creation_input_tokens - self.cache_write_1h_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "ephemeral_5m_input_tokens": self.ephemeral_5m_input_tokens,
            "ephemeral_1h_input_tokens": self.ephemeral_1h_input_tokens,
        }


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    """The `anthropic-ratelimit-*` headers of one response, parsed.

    ``reset`` values are absolute epoch seconds (the header is RFC 3339), so a
    consumer can count down to them; ``None`` where the header was absent.
    """

    request_id: str | None = None
    requests_limit: int | None = None
    requests_remaining: int | None = None
    requests_reset: float | None = None
    tokens_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_reset: float | None = None
    input_tokens_limit: int | None = None
    input_tokens_remaining: int | None = None
    input_tokens_reset: float | None = None
    output_tokens_limit: int | None = None
    output_tokens_remaining: int | None = None
    output_tokens_reset: float | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Timings:
    """Monotonic timestamps of one job, measured at the engine."""

    submitted: float
    started: float | None = None  # the final attempt's request was sent
    first_token: float | None = None  # first content delta of the final attempt
    finished: float | None = None

    @property
    def ttft(self) -> float | None:
        if self.started is None or self.first_token is None:
            return None
        return self.first_token - self.started

    @property
    def latency(self) -> float | None:
        """End-to-end latency of the final attempt: request sent → message_stop."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    @property
    def total(self) -> float | None:
        """Submit → finish, queueing and retries included."""
        if self.finished is None:
            return None
        return self.finished - self.submitted


#: The long records (the outcomes, a failed attempt, a backoff) are keyword-only: eleven positional
#: arguments in a row cannot be checked by eye.
@dataclass(frozen=True, slots=True)
class Event:
    job_id: str
    at: float  # time.monotonic() when the engine emitted it


@dataclass(frozen=True, slots=True)
class Submitted(Event):
    """The first event of every job: the Job itself, so each consumer learns what was asked
    (model, prompt, where it belongs) from the stream, not from a side channel."""

    job: Job


@dataclass(frozen=True, slots=True)
class Queued(Event):
    position: int  # 0 = next to start; re-emitted as the queue moves


@dataclass(frozen=True, slots=True)
class Started(Event):
    attempt: int  # 1-based


@dataclass(frozen=True, slots=True)
class FirstToken(Event):
    ttft: float  # seconds from this attempt's request to its first content delta
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class TextDelta(Event):
    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta(Event):
    text: str


@dataclass(frozen=True, slots=True)
class UsageUpdate(Event):
    usage: Usage  # cumulative for the current attempt


@dataclass(frozen=True, slots=True)
class RateLimits(Event):
    snapshot: RateLimitSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptFailed(Event):
    """One attempt failed (it may be retried). Emitted for every failed attempt."""

    attempt: int
    kind: ErrorKind
    message: str
    status_code: int | None
    retryable: bool
    request_id: str | None
    partial_text: str
    usage: Usage
    started: float
    ended: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BackingOff(Event):
    """Emitted just before the sleep; ``deadline`` is the monotonic moment of the next attempt."""

    attempt: int  # the attempt that just failed (1-based); the next is attempt + 1
    max_attempts: int
    delay: float
    deadline: float
    reason: ErrorKind
    status_code: int | None
    message: str
    from_retry_after: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Throttled(Event):
    """The budget holds the next attempt back (planned pacing, not a failure: see BackingOff for those).

    ``dimension`` is what binds: ``requests``, ``input_tokens``, ``output_tokens`` or ``retry_after``
    (a 429 holds the whole model class); ``deadline`` is the monotonic moment it expects room.
    """

    dimension: str
    delay: float
    deadline: float
    model_class: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Done(Event):
    text: str
    thinking: str
    usage: Usage
    stop_reason: str | None
    model: str
    request_id: str | None
    attempts: int
    timings: Timings
    cost: float | None = None  # USD estimate from the price table


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(Event):
    kind: ErrorKind
    message: str
    status_code: int | None
    retryable: bool  # the error was retryable, but the attempts ran out
    partial_text: str
    attempts: int
    request_id: str | None
    timings: Timings
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled(Event):
    partial_text: str
    attempts: int
    timings: Timings


#: Events after which a job emits nothing more.
TERMINAL = (Done, Failed, Cancelled)

JobEvent: TypeAlias = (
    Submitted
    | Queued
    | Started
    | FirstToken
    | TextDelta
    | ThinkingDelta
    | UsageUpdate
    | RateLimits
    | AttemptFailed
    | BackingOff
    | Throttled
    | Done
    | Failed
    | Cancelled
)


def is_terminal(event: Event) -> bool:
    return isinstance(event, TERMINAL)
