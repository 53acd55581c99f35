"""Continuously refilled token buckets for RPM, ITPM and OTPM.

The API documents its limiter as a token bucket that refills continuously, with output
tokens estimated from ``max_tokens`` when a request starts and settled to the actual count
when it ends. That is what this does, so a ``retry-after`` computed here is honest: retrying
at that moment succeeds if nothing else drew from the bucket in between.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of asking the limiter for room."""

    ok: bool
    retry_after: float = 0.0  # seconds (exact); the header is its ceiling
    limited_by: str | None = None  # "requests" | "input-tokens" | "output-tokens"
    output_reserved: int = 0  # tokens charged up front to OTPM, settled later


def rfc3339(epoch: float) -> str:
    """An RFC 3339 UTC time rounded up to the second (``2026-01-01T00:00:05Z``)."""
    return datetime.fromtimestamp(math.ceil(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RateLimiter:
    """RPM, ITPM and OTPM buckets shared by every model. Thread-safe."""

    def __init__(
        self,
        rpm: int | None,
        itpm: int | None,
        otpm: int | None,
        burst: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.requests = TokenBucket(rpm, burst, clock) if rpm else None
        self.input = TokenBucket(itpm, burst, clock) if itpm else None
        self.output = TokenBucket(otpm, burst, clock) if otpm else None

    def admit(self, input_tokens: int, max_tokens: int) -> Admission:
        """Take room for one request, or say how long until there is room for it."""
        with self._lock:
            checks = (("requests", self.requests, 1), ("input-tokens", self.input, input_tokens),
                      ("output-tokens", self.output, max_tokens))
            worst, worst_name = 0.0, None
            for name, bucket, cost in checks:
                if bucket is not None:
                    wait = bucket.wait_for(cost)
                    if wait > worst:
                        worst, worst_name = wait, name
            if worst > 0:
                return Admission(False, worst, worst_name)
            for _name, bucket, cost in checks:
                if bucket is not None:
                    bucket.take(cost)
            return Admission(True, output_reserved=max_tokens if self.output is not None else 0)

    def settle_output(self, reserved: int, actual: int) -> None:
        """Give back the part of the up-front OTPM estimate the reply did not use."""
        if self.output is None or reserved <= actual:
            return
        with self._lock:
            self.output.give_back(reserved - actual)

    def refill(self) -> None:
        with self._lock:
            for bucket in (self.requests, self.input, self.output):
                if bucket is not None:
                    bucket.refill()

    def headers(self) -> dict[str, str]:
        """The ``anthropic-ratelimit-*`` headers for the buckets now (unlimited ones are left out).

        ``remaining`` is exact (the API rounds token counts to thousands); ``reset`` is when the
        bucket will be full again. ``tokens-*`` repeats whichever token bucket is tighter.
        """
        out: dict[str, str] = {}
        wall = time.time()
        with self._lock:
            tightest: tuple[float, TokenBucket] | None = None
            for group, bucket in (("requests", self.requests), ("input-tokens", self.input),
                                  ("output-tokens", self.output)):
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
        out[base + "-remaining"] = str(max(0, math.floor(level)))
        out[base + "-reset"] = rfc3339(wall + max(0.0, (bucket.capacity - level) / bucket.rate))
