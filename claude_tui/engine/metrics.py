"""Metrics: what the pool's events say about latency, throughput, tokens and cost.

Definitions follow the load-testing tools: TTFT = request sent → first content delta; latency =
request sent → message_stop (the final attempt); TPOT = (latency − TTFT) / (output_tokens − 1).
Tokens come from ``usage``, never from chunk counts.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .events import (
    AttemptFailed,
    BackingOff,
    Cancelled,
    Done,
    Failed,
    JobEvent,
    Queued,
    RateLimits,
    RateLimitSnapshot,
    Started,
    Submitted,
)
from .percentiles import percentile_sorted as percentile
from .pricing import PriceTable

HISTORY_BUCKET_SECONDS = 5.0
HISTORY_BUCKETS = 36  # three minutes of sparkline


@dataclass(frozen=True, slots=True)
class Percentiles:
    count: int = 0
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> "Percentiles":
        ordered = sorted(values)
        if not ordered:
            return cls()
        return cls(
            count=len(ordered),
            mean=sum(ordered) / len(ordered),
            p50=percentile(ordered, 50),
            p90=percentile(ordered, 90),
            p95=percentile(ordered, 95),
            p99=percentile(ordered, 99),
            max=ordered[-1],
        )


@dataclass(frozen=True, slots=True)
class Completion:
    """One finished request, as the metrics keep it."""

    at: float
    ttft: float | None
    latency: float | None
    tpot: float | None
    input_tokens: int
    output_tokens: int
    attempts: int


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    in_flight: int
    queued: int
    done: int
    failed: int
    cancelled: int
    retries: int
    cut_at_max_tokens: int  # succeeded, but stopped by max_tokens: the reply is not whole
    rate_limited: int
    errors: int  # failed attempts of any kind
    requests_per_s: float  # completions over the sliding window
    output_tokens_per_s: float
    success_rate: float | None  # done / (done + failed)
    ttft: Percentiles
    latency: Percentiles
    tpot: Percentiles
    window_ttft: Percentiles
    window_latency: Percentiles
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float
    attempts: int
    elapsed: float  # seconds since the first event
    last_rate_limits: RateLimitSnapshot | None
    last_rate_limits_at: float | None
    throughput_history: list[float] = field(default_factory=list)
    latency_history: list[float] = field(default_factory=list)


class Metrics:
    """A pool listener. ``observe`` is O(1) per event; ``snapshot`` sorts, so call it a few times a second."""

    def __init__(self, window: float = 60.0, prices: PriceTable | None = None, *, clock: Callable[[], float] = time.monotonic, per_tag: bool = True) -> None:
        self.window = window
        self.prices = prices or PriceTable()
        self._clock = clock
        self._per_tag = per_tag
        self._tags: dict[str, Any] = {}
        self._by_tag: dict[Any, Metrics] = {}
        self._queued: set[str] = set()
        self._running: set[str] = set()
        self.completions: list[Completion] = []
        self._recent: deque[Completion] = deque()
        self.done = self.failed = self.cancelled = 0
        self.cut_at_max_tokens = 0
        self.retries = self.rate_limited = self.errors = 0
        self.input_tokens = self.output_tokens = self.cache_read_tokens = self.cache_write_tokens = 0
        self.cost = 0.0
        self.attempts = 0
        self._first_at: float | None = None
        self.last_rate_limits: RateLimitSnapshot | None = None
        self.last_rate_limits_at: float | None = None

    # -- intake ------------------------------------------------------------------------------
    def observe(self, event: JobEvent) -> None:
        if self._first_at is None:
            self._first_at = event.at
        job_id = event.job_id
        if isinstance(event, Submitted):
            if self._per_tag and event.job.correlation.group is not None:
                self._tags[job_id] = event.job.correlation.group
        elif isinstance(event, Queued):
            self._queued.add(job_id)
        elif isinstance(event, Started):
            self._queued.discard(job_id)
            self._running.add(job_id)
            self.attempts += 1
        elif isinstance(event, RateLimits):
            self.last_rate_limits = event.snapshot
            self.last_rate_limits_at = event.at
        elif isinstance(event, AttemptFailed):
            self.errors += 1
            if event.kind == "rate_limit":
                self.rate_limited += 1
            self._add_tokens(event.usage.input_tokens, event.usage.output_tokens, event.usage.cache_read_input_tokens, event.usage.cache_creation_input_tokens)
        elif isinstance(event, BackingOff):
            self.retries += 1
        elif isinstance(event, Done):
            self._finish(job_id)
            self.done += 1
            if event.stop_reason == "max_tokens":
                self.cut_at_max_tokens += 1
            usage = event.usage
            self._add_tokens(usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens, usage.cache_creation_input_tokens)
            self.cost += event.cost or 0.0
            timings = event.timings
            ttft, latency = timings.ttft, timings.latency
            tpot = None
            if ttft is not None and latency is not None and usage.output_tokens > 1:
                tpot = (latency - ttft) / (usage.output_tokens - 1)
            completion = Completion(event.at, ttft, latency, tpot, usage.input_tokens, usage.output_tokens, event.attempts)
            self.completions.append(completion)
            self._recent.append(completion)
        elif isinstance(event, Failed):
            self._finish(job_id)
            self.failed += 1
        elif isinstance(event, Cancelled):
            self._finish(job_id)
            self.cancelled += 1
        if self._per_tag:
            tag = self._tags.get(job_id)
            if tag is not None:
                sub = self._by_tag.get(tag)
                if sub is None:
                    sub = self._by_tag[tag] = Metrics(self.window, self.prices, clock=self._clock, per_tag=False)
                sub.observe(event)
                if isinstance(event, (Done, Failed, Cancelled)):
                    del self._tags[job_id]

    def _finish(self, job_id: str) -> None:
        self._queued.discard(job_id)
        self._running.discard(job_id)

    def _add_tokens(self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cache_read_tokens += cache_read
        self.cache_write_tokens += cache_write

    # -- output ------------------------------------------------------------------------------
    def for_tag(self, tag: Any) -> "Metrics | None":
        """The same figures for the jobs whose ``Job.correlation.group`` is ``tag`` (per-tab figures)."""
        return self._by_tag.get(tag)

    def snapshot(self) -> MetricsSnapshot:
        now = self._clock()
        horizon = now - self.window
        recent = self._recent
        while recent and recent[0].at < horizon:
            recent.popleft()
        span = min(self.window, now - self._first_at) if self._first_at is not None else 0.0
        window_requests = len(recent)
        window_tokens = sum(c.output_tokens for c in recent)
        finished = self.done + self.failed
        completions = self.completions
        return MetricsSnapshot(
            in_flight=len(self._running),
            queued=len(self._queued),
            done=self.done,
            failed=self.failed,
            cancelled=self.cancelled,
            retries=self.retries,
            cut_at_max_tokens=self.cut_at_max_tokens,
            rate_limited=self.rate_limited,
            errors=self.errors,
            requests_per_s=window_requests / span if span > 0 else 0.0,
            output_tokens_per_s=window_tokens / span if span > 0 else 0.0,
            success_rate=self.done / finished if finished else None,
            ttft=Percentiles.of(c.ttft for c in completions if c.ttft is not None),
            latency=Percentiles.of(c.latency for c in completions if c.latency is not None),
            tpot=Percentiles.of(c.tpot for c in completions if c.tpot is not None),
            window_ttft=Percentiles.of(c.ttft for c in recent if c.ttft is not None),
            window_latency=Percentiles.of(c.latency for c in recent if c.latency is not None),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            cost=self.cost,
            attempts=self.attempts,
            elapsed=now - self._first_at if self._first_at is not None else 0.0,
            last_rate_limits=self.last_rate_limits,
            last_rate_limits_at=self.last_rate_limits_at,
            throughput_history=self._history(now, lambda bucket: len(bucket) / HISTORY_BUCKET_SECONDS),
            latency_history=self._history(
                now, lambda bucket: (sum(c.latency for c in bucket if c.latency) / len(bucket)) if bucket else 0.0
            ),
        )

    def _history(self, now: float, reduce: Callable[[list[Completion]], float]) -> list[float]:
        """One value per 5-second bucket over the last three minutes, oldest first."""
        start = now - HISTORY_BUCKET_SECONDS * HISTORY_BUCKETS
        buckets: list[list[Completion]] = [[] for _ in range(HISTORY_BUCKETS)]
        for completion in reversed(self.completions):
            if completion.at < start:
                break
            index = min(HISTORY_BUCKETS - 1, int((completion.at - start) / HISTORY_BUCKET_SECONDS))
            buckets[index].append(completion)
        return [reduce(bucket) for bucket in buckets]
