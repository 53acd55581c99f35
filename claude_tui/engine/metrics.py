"""Metrics: what the pool's events say about latency, throughput, tokens and cost.

Definitions follow the load-testing tools: TTFT = request sent → first content delta; latency =
request sent → message_stop (the final attempt); total = submit → finish (queueing, retries, backoff
and budget waits included: what the person who submitted the prompt waited); TPOT = (latency − TTFT) /
(output_tokens − 1). Tokens come from ``usage``, never from chunk counts.
"""

from __future__ import annotations

import time
from array import array
from collections import deque
from itertools import islice
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
from .percentiles import percentile  # sorts its input; Timsort on an already sorted list is linear
from .pricing import PriceTable

HISTORY_BUCKET_SECONDS = 5.0
HISTORY_BUCKETS = 36  # three minutes of sparkline
#: Relative accuracy of the all-time percentiles (DDSketch: every quantile within 1 % of a value
#: of that rank). 1.1 µs per add and 0.05 ms for four quantiles, at any count (measured).
SKETCH_ACCURACY = 0.01
#: The windowed percentiles use at most this many of the window's latest completions, so a
#: snapshot sorts a bounded sample even when thousands complete per second.
WINDOW_SAMPLE = 1024


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
        """Exact figures of a finite collection (sorts it once)."""
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


class Distribution:
    """An all-time distribution whose cost does not grow with the count.

    Count, mean and max are exact. Percentiles are exact up to ``WINDOW_SAMPLE`` values (a sort of
    at most that many), then come from a DDSketch (``SKETCH_ACCURACY`` relative error, a few hundred
    bins for latencies from 1 ms to hours). With ``keep_values`` every value is also kept (8 bytes
    each, in an ``array``) so :meth:`exact` can give exact figures once, for a final summary.
    """

    __slots__ = ("_sketch", "_max", "_small", "_values")

    def __init__(self, *, keep_values: bool = False) -> None:
        from ddsketch import DDSketch  # 12 ms; kept off `claude-tui --help`

        self._sketch = DDSketch(relative_accuracy=SKETCH_ACCURACY)
        self._max: float | None = None
        self._small: list[float] | None = []  # the values while they are few; None once past WINDOW_SAMPLE
        self._values: array[float] | None = array("d") if keep_values else None

    def add(self, value: float) -> None:
        self._sketch.add(value)
        if self._max is None or value > self._max:
            self._max = value
        small = self._small
        if small is not None:
            if len(small) < WINDOW_SAMPLE:
                small.append(value)
            else:
                self._small = None
        if self._values is not None:
            self._values.append(value)

    @property
    def count(self) -> int:
        return int(self._sketch.count)

    def quantile(self, q: float) -> float | None:
        """The q-th percentile (0..100): exact while the values are few, else the sketch's."""
        if self._small is not None:
            return percentile(self._small, q)
        value = self._sketch.get_quantile_value(q / 100)
        if value is None or self._max is None:
            return None
        return min(float(value), self._max)  # the sketch's bin value may lie just above the max

    def percentiles(self) -> Percentiles:
        if self._small is not None:
            return Percentiles.of(self._small)
        count = self.count
        return Percentiles(count, self._sketch.sum / count, self.quantile(50), self.quantile(90),
                           self.quantile(95), self.quantile(99), self._max)

    def exact(self) -> Percentiles:
        """Exact figures from the kept values (the live figures when values are not kept)."""
        return Percentiles.of(self._values) if self._values is not None else self.percentiles()


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
    total: float | None = None  # submit → finish: queueing, retries, backoff and budget waits included


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
    #: Submit → finish (queueing, retries, backoff and budget waits included); ``latency`` and
    #: ``window_latency`` are the final attempt's (request sent → message_stop).
    total: Percentiles = field(default_factory=Percentiles)
    #: USD the prompt cache saved on the finished requests (``Price.cache_saving``: writes count against it).
    cache_saved: float = 0.0

    @property
    def cache_hit_ratio(self) -> float | None:
        """Cache-read input tokens ÷ all input tokens (uncached + read + written); None before any input."""
        total = self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
        return self.cache_read_tokens / total if total else None


class Metrics:
    """A pool listener whose costs do not grow with the job.

    ``observe`` is O(1) per event. ``snapshot`` is O(1) in the number of completions: all-time
    percentiles come from sketches (:class:`Distribution`), rates from running sums over a
    time-bounded window, the windowed percentiles from at most ``WINDOW_SAMPLE`` of its latest
    completions, the sparklines from 5-second buckets. Measured by benchmarks/bench_metrics.py.
    """

    def __init__(self, window: float = 60.0, prices: PriceTable | None = None, *, clock: Callable[[], float] = time.monotonic,
                 per_tag: bool = True, keep_values: bool = False) -> None:
        self.window = window
        self.prices = prices or PriceTable()
        self._clock = clock
        self._per_tag = per_tag
        self._keep_values = keep_values
        self._tags: dict[str, str | None] = {}  # job id -> its correlation group
        self._by_tag: dict[str, Metrics] = {}
        self._queued: set[str] = set()
        self._running: set[str] = set()
        self._ttft = Distribution(keep_values=keep_values)
        self._latency = Distribution(keep_values=keep_values)
        self._tpot = Distribution(keep_values=keep_values)
        self._total = Distribution(keep_values=keep_values)
        self._recent: deque[Completion] = deque()  # the window, oldest first
        self._recent_tokens = 0  # Σ output tokens of ``_recent``
        self._buckets: dict[int, list[float]] = {}  # 5-second bucket → [completions, Σ latency]
        self.done = self.failed = self.cancelled = 0
        self.cut_at_max_tokens = 0
        self.retries = self.rate_limited = self.errors = 0
        self.input_tokens = self.output_tokens = self.cache_read_tokens = self.cache_write_tokens = 0
        self.cost = 0.0
        self.cache_saved = 0.0
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
            if usage.cache_read_input_tokens or usage.cache_creation_input_tokens:
                self.cache_saved += self.prices.cache_saving(event.model, usage) or 0.0
            self._complete(event, usage.input_tokens, usage.output_tokens)
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

    def _complete(self, event: Done, input_tokens: int, output_tokens: int) -> None:
        timings = event.timings
        ttft, latency, total = timings.ttft, timings.latency, timings.total
        tpot = None
        if ttft is not None and latency is not None and output_tokens > 1:
            tpot = (latency - ttft) / (output_tokens - 1)
        for value, dist in ((ttft, self._ttft), (latency, self._latency), (tpot, self._tpot), (total, self._total)):
            if value is not None:
                dist.add(value)
        completion = Completion(event.at, ttft, latency, tpot, input_tokens, output_tokens, event.attempts, total)
        self._recent.append(completion)
        self._recent_tokens += output_tokens
        self._evict(event.at - self.window)
        key = int(event.at // HISTORY_BUCKET_SECONDS)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [0.0, 0.0]
            if len(self._buckets) > HISTORY_BUCKETS + 1:  # keys arrive in time order: drop the oldest
                for old in sorted(self._buckets)[: len(self._buckets) - HISTORY_BUCKETS - 1]:
                    del self._buckets[old]
        bucket[0] += 1
        bucket[1] += latency or 0.0

    def _evict(self, horizon: float) -> None:
        recent = self._recent
        while recent and recent[0].at < horizon:
            self._recent_tokens -= recent.popleft().output_tokens

    def _finish(self, job_id: str) -> None:
        self._queued.discard(job_id)
        self._running.discard(job_id)

    def _add_tokens(self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cache_read_tokens += cache_read
        self.cache_write_tokens += cache_write

    # -- output ------------------------------------------------------------------------------
    def for_tag(self, tag: str | None) -> "Metrics | None":
        """The same figures for the jobs whose ``Job.correlation.group`` is ``tag`` (per-tab figures)."""
        return self._by_tag.get(tag) if tag is not None else None

    def snapshot(self, *, exact: bool = False) -> MetricsSnapshot:
        """The live figures, at a cost independent of how many requests have completed.

        ``exact=True`` (with ``keep_values``) sorts the kept values once for exact all-time
        percentiles: for a final summary, not for a refresh loop.
        """
        now = self._clock()
        self._evict(now - self.window)
        recent = self._recent
        span = min(self.window, now - self._first_at) if self._first_at is not None else 0.0
        finished = self.done + self.failed
        sample = list(islice(reversed(recent), WINDOW_SAMPLE))

        def figures(dist: Distribution) -> Percentiles:
            return dist.exact() if exact else dist.percentiles()

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
            requests_per_s=len(recent) / span if span > 0 else 0.0,
            output_tokens_per_s=self._recent_tokens / span if span > 0 else 0.0,
            success_rate=self.done / finished if finished else None,
            ttft=figures(self._ttft),
            latency=figures(self._latency),
            tpot=figures(self._tpot),
            window_ttft=Percentiles.of(c.ttft for c in sample if c.ttft is not None),
            window_latency=Percentiles.of(c.latency for c in sample if c.latency is not None),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            cost=self.cost,
            attempts=self.attempts,
            elapsed=now - self._first_at if self._first_at is not None else 0.0,
            last_rate_limits=self.last_rate_limits,
            last_rate_limits_at=self.last_rate_limits_at,
            throughput_history=self._history(now, lambda count, _: count / HISTORY_BUCKET_SECONDS),
            latency_history=self._history(now, lambda count, latency_sum: latency_sum / count if count else 0.0),
            total=figures(self._total),
            cache_saved=self.cache_saved,
        )

    def _history(self, now: float, reduce: Callable[[float, float], float]) -> list[float]:
        """One value per 5-second bucket over the last three minutes, oldest first (the last is filling)."""
        last = int(now // HISTORY_BUCKET_SECONDS)
        empty = (0.0, 0.0)
        return [reduce(*self._buckets.get(key, empty)) for key in range(last - HISTORY_BUCKETS + 1, last + 1)]
