"""Continuously refilled token buckets for RPM, ITPM and OTPM, one set per model class.

The API documents its limiter as a token bucket that refills continuously, with output
tokens estimated from ``max_tokens`` when a request starts and settled to the actual count
when it ends. That is what this does, so a ``retry-after`` computed here is honest: retrying
at that moment succeeds if nothing else drew from the bucket in between.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable


class TokenBucket:
    """A bucket of ``capacity`` refilled at ``per_minute / 60`` per second.

    A cost larger than the whole capacity is admitted when the bucket is full (the level
    goes negative and refills), so one oversized request is slow rather than impossible.
    """

    def __init__(self, per_minute: float, burst_seconds: float, clock: Callable[[], float]) -> None:
        self.limit = int(per_minute)
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute * burst_seconds / 60.0)
        self._clock = clock
        self._level = self.capacity
        self._stamp = clock()

    def level(self) -> float:
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now
        return self._level

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` could be taken (0 if it can be now)."""
        need = min(cost, self.capacity)
        level = self.level()
        if level >= need:
            return 0.0
        return (need - level) / self.rate

    def take(self, cost: float) -> None:
        self.level()
        self._level -= cost

    def give_back(self, amount: float) -> None:
        self.level()
        self._level = min(self.capacity, self._level + amount)

    def seconds_to_full(self) -> float:
        return max(0.0, (self.capacity - self.level()) / self.rate)

    def refill(self) -> None:
        self._level = self.capacity
        self._stamp = self._clock()


#: Bucket capacity in seconds of refill. The API enforces per-minute limits over short intervals
#: ("60 RPM might be enforced as 1 request per second", rate-limits page): a bucket holding a
#: whole minute let a client that ignores the limit reach 111 % of it over a short run.
DEFAULT_BURST_SECONDS = 5.0


def itpm_cost(input_tokens: int, cache_creation_input_tokens: int = 0) -> int:
    """What a request charges to ITPM: uncached input plus cache writes; cache reads are free
    (rate-limits page: "ITPM counts input_tokens + cache_creation_input_tokens")."""
    return input_tokens + cache_creation_input_tokens


@dataclass(slots=True)
class Admission:
    """The outcome of asking the limiter for room (``ticket`` names the OTPM reservation)."""

    ok: bool
    retry_after: float = 0.0  # seconds (exact); the header is its ceiling
    limited_by: str | None = None  # "requests" | "input-tokens" | "output-tokens"
    output_reserved: int = 0  # tokens charged up front to OTPM, settled later
    rate_class: str = ""
    ticket: int = 0


def rfc3339(epoch: float) -> str:
    """An RFC 3339 UTC time rounded up to the second (``2026-01-01T00:00:05Z``)."""
    return datetime.fromtimestamp(math.ceil(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def round_thousand(tokens: float) -> int:
    """Token ``remaining`` as the API sends it: rounded to the nearest thousand."""
    return int(math.floor(max(0.0, tokens) / 1000 + 0.5)) * 1000


@dataclass(slots=True)
class _Class:
    """One model class's buckets and its OTPM reservations still in flight (ticket -> (refund, due))."""

    requests: TokenBucket | None
    input: TokenBucket | None
    output: TokenBucket | None
    pending: dict[int, tuple[int, float | None]] = field(default_factory=dict)


class RateLimiter:
    """RPM, ITPM and OTPM buckets per model class ("you can use different models up to their
    respective limits at the same time"); every class gets the same limits. Thread-safe."""

    def __init__(
        self,
        rpm: int | None,
        itpm: int | None,
        otpm: int | None,
        burst: float = DEFAULT_BURST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._limits = (rpm, itpm, otpm)
        self._burst = burst
        self._classes: dict[str, _Class] = {}
        self._tickets = itertools.count(1)

    def _get(self, rate_class: str) -> _Class:
        found = self._classes.get(rate_class)
        if found is None:
            rpm, itpm, otpm = self._limits
            b, c = self._burst, self._clock
            found = _Class(TokenBucket(rpm, b, c) if rpm else None, TokenBucket(itpm, b, c) if itpm else None,
                           TokenBucket(otpm, b, c) if otpm else None)
            self._classes[rate_class] = found
        return found

    def admit(self, rate_class: str, input_cost: int, max_tokens: int) -> Admission:
        """Take room for one request of ``rate_class``, or say how long until there is room for it.

        ``input_cost`` is what ITPM charges (see ``itpm_cost``); OTPM is charged ``max_tokens``
        up front and settled to the real output when the reply ends.
        """
        with self._lock:
            k = self._get(rate_class)
            checks = (("requests", k.requests, 1), ("input-tokens", k.input, input_cost),
                      ("output-tokens", k.output, max_tokens))
            worst, worst_name = 0.0, None
            for name, bucket, cost in checks:
                if bucket is not None:
                    wait = self._wait_with_refunds(k, cost) if bucket is k.output else bucket.wait_for(cost)
                    if wait > worst:
                        worst, worst_name = wait, name
            if worst > 0:
                return Admission(False, worst, worst_name, rate_class=rate_class)
            for _name, bucket, cost in checks:
                if bucket is not None:
                    bucket.take(cost)
            if k.output is None:
                return Admission(True, rate_class=rate_class)
            ticket = next(self._tickets)
            k.pending[ticket] = (0, None)
            return Admission(True, output_reserved=max_tokens, rate_class=rate_class, ticket=ticket)

    def _wait_with_refunds(self, k: _Class, cost: float) -> float:
        """Seconds until OTPM has ``cost``, counting refill *and* the refunds of replies in flight
        at the time each is due to end (a refill-only answer said 36 s where room came back
        1.5 s later, when a reply finished and gave back the unused part of its max_tokens)."""
        bucket = k.output
        assert bucket is not None
        need = min(cost, bucket.capacity)
        level = bucket.level()
        if level >= need:
            return 0.0
        now = self._clock()
        t = now
        for due, refund in sorted((due, refund) for refund, due in k.pending.values() if due is not None and refund > 0):
            due = max(due, now)
            if level + (due - t) * bucket.rate >= need:
                break
            level = min(bucket.capacity, level + (due - t) * bucket.rate + refund)
            t = due
            if level >= need:
                return t - now
        return t - now + (need - level) / bucket.rate

    def expect(self, admission: Admission, output_tokens: int, finish_at: float) -> None:
        """Note what a planned reply will give back and when (``finish_at`` on the limiter's clock)."""
        if not admission.ticket:
            return
        with self._lock:
            k = self._get(admission.rate_class)
            if admission.ticket in k.pending:
                k.pending[admission.ticket] = (max(0, admission.output_reserved - output_tokens), finish_at)

    def settle_output(self, admission: Admission, actual: int) -> None:
        """Give back the part of the up-front OTPM estimate the reply did not use."""
        if not admission.ticket:
            return
        with self._lock:
            k = self._get(admission.rate_class)
            k.pending.pop(admission.ticket, None)
            if k.output is not None and admission.output_reserved > actual:
                k.output.give_back(admission.output_reserved - actual)

    def refill(self) -> None:
        with self._lock:
            for k in self._classes.values():
                for bucket in (k.requests, k.input, k.output):
                    if bucket is not None:
                        bucket.refill()

    def limit_of(self, rate_class: str, group: str) -> int | None:
        with self._lock:
            k = self._get(rate_class)
        bucket = {"requests": k.requests, "input-tokens": k.input, "output-tokens": k.output}.get(group)
        return bucket.limit if bucket is not None else None

    def headers(self, rate_class: str) -> dict[str, str]:
        """The ``anthropic-ratelimit-*`` headers for one class's buckets now (unlimited ones left out).

        Token ``remaining`` is rounded to the nearest thousand, as the API documents; ``reset`` is
        when the bucket will be full again. ``tokens-*`` repeats whichever token bucket is tighter.
        """
        out: dict[str, str] = {}
        wall = time.time()
        with self._lock:
            k = self._get(rate_class)
            tightest: tuple[float, TokenBucket] | None = None
            for group, bucket in (("requests", k.requests), ("input-tokens", k.input),
                                  ("output-tokens", k.output)):
                if bucket is None:
                    continue
                level = bucket.level()
                self._put(out, group, bucket, level, wall)
                if group != "requests":
                    frac = level / bucket.capacity
                    if tightest is None or frac < tightest[0]:
                        tightest = (frac, bucket)
            if tightest is not None:
                bucket = tightest[1]
                self._put(out, "tokens", bucket, bucket.level(), wall)
        return out

    @staticmethod
    def _put(out: dict[str, str], group: str, bucket: TokenBucket, level: float, wall: float) -> None:
        base = "anthropic-ratelimit-" + group
        out[base + "-limit"] = str(bucket.limit)
        remaining = max(0, math.floor(level)) if group == "requests" else round_thousand(level)
        out[base + "-remaining"] = str(remaining)
        out[base + "-reset"] = rfc3339(wall + max(0.0, (bucket.capacity - level) / bucket.rate))
