"""The retry policy: tenacity decides when; the server's `retry-after` is a floor we never undercut."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tenacity import RetryCallState, wait_random_exponential

from .errors import AttemptError

#: The least we wait when a server says `retry-after: 0` (jittered up to twice this).
MIN_SERVER_WAIT = 0.5


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``max_attempts`` attempts; exponential backoff with full jitter from ``base``, capped at ``cap``.

    A ``retry-after`` from the server replaces the backoff and is honoured exactly, even above the cap:
    retrying sooner only earns another 429. A 429 that says when to come back is the server pacing
    us, not the request failing: it does not use up one of the ``max_attempts``; instead a job waits
    on such 429s for at most ``rate_limit_patience`` seconds in all. Under a tight limit with many
    jobs in flight every job gets through eventually, instead of giving up after five paced 429s.
    """

    max_attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    rate_limit_patience: float = 600.0
    #: Connection refused / unreachable: the one failure where waiting longer is right (a server
    #: restarting, a network blip). It spends no attempt; retried with backoff capped at
    #: ``connect_cap`` for this long in all. With 5 quick attempts a ~6 s outage failed 20 of 1,000 jobs.
    connect_patience: float = 120.0
    connect_cap: float = 5.0
    #: The longest one attempt may take in all, pings included. The stall timer counts bytes, so a
    #: server that pings forever and never finishes would otherwise hold a job for ever; an attempt
    #: past this fails as a ``timeout`` (retried). 10 min: a 1,024-token reply at even 10 tokens/s
    #: takes under 2 min; raise it for very long replies (tens of thousands of output tokens).
    attempt_timeout: float = 600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0:
            raise ValueError("backoff times must not be negative")
        if not self.attempt_timeout > 0:
            raise ValueError("attempt_timeout must be positive")

    def wait(self, retry_state: RetryCallState) -> float:
        """A tenacity ``wait`` callable."""
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, AttemptError) and exc.retry_after is not None:
            if exc.retry_after < MIN_SERVER_WAIT:  # "come back in 0 s" on every answer is a hot loop
                return random.uniform(MIN_SERVER_WAIT, 2 * MIN_SERVER_WAIT)
            return exc.retry_after
        if is_connection(exc):
            return _jittered(self.base, self.connect_cap)(retry_state)
        return _jittered(self.base, self.cap)(retry_state)

    def uses_retry_after(self, exc: BaseException | None) -> bool:
        return isinstance(exc, AttemptError) and exc.retry_after is not None


def is_connection(exc: BaseException | None) -> bool:
    """Nothing answered (see ``RetryPolicy.connect_patience``)."""
    return isinstance(exc, AttemptError) and exc.kind == "connection"


def spends_no_attempt(exc: BaseException | None) -> bool:
    """Paced 429s and connection failures are bounded by time, not by ``max_attempts``."""
    return is_paced(exc) or is_connection(exc)


def is_paced(exc: BaseException | None) -> bool:
    """A 429 with retry-after: the server pacing us (see RetryPolicy)."""
    return isinstance(exc, AttemptError) and exc.kind == "rate_limit" and exc.retry_after is not None


def _jittered(base: float, cap: float) -> wait_random_exponential:
    # Full jitter: uniform(0, min(cap, base * 2**(n-1))) for the n-th retry.
    return wait_random_exponential(multiplier=base, max=cap)
