"""What one benchmark run measured, and the figures the tables and JSON show.

Definitions follow the load-testing tools (vLLM ``bench serve``, llmperf):

- TTFT: request sent → first content delta (streaming only; a non-streamed reply has none).
- latency: request sent → reply complete, retries included: for claude-tui rows, the first
  attempt's ``Started`` → ``Done`` (the time the job held its pool slot; the engine's own
  final-attempt ``Timings.latency`` is kept as ``final_attempt_latency_p99_ms``); for the guide's
  rows, the whole call the guide makes, SDK retries and wrapper sleeps included, since the SDK
  retries invisibly. Without failures the two definitions coincide.
- TPOT: (latency − TTFT) / (output_tokens − 1), tokens from ``usage``.
- requests/s: completed / wall time; output tokens/s: Σ output tokens of completed / wall time.
- Little's law: a closed loop with N in flight at latency W completes at most N / W per second;
  efficiency = measured requests/s ÷ that ceiling.
- Goodput (GuideLLM): requests meeting every objective of ``--goodput`` per second; a lost request
  is never good. SLO attainment = good ÷ submitted.

Field names are vLLM ``bench serve``'s where the meaning is the same (``duration``, ``completed``,
``request_throughput``, ``mean_/median_/p99_ttft_ms``, ``…_tpot_ms``, ``…_itl_ms``, ``…_e2el_ms``,
``max_concurrent_requests``); the rest are ours. benchmarks/bench.schema.json describes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..engine.percentiles import percentile


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def littles_law_ceiling(concurrency: float, latency_s: float | None) -> float | None:
    """The most a closed loop with ``concurrency`` in flight at ``latency_s`` can complete per second."""
    if latency_s is None or latency_s <= 0 or concurrency <= 0:
        return None
    return concurrency / latency_s


def efficiency(requests_per_s: float | None, ceiling: float | None) -> float | None:
    """Measured throughput as a fraction of the Little's-law ceiling."""
    if requests_per_s is None or not ceiling:
        return None
    return requests_per_s / ceiling


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


#: Service-level objectives for goodput (``--goodput ttft:500 e2el:8000``), in ms, by metric
#: (``ttft``, ``tpot``, ``itl``, ``e2el``). GuideLLM's definition: a request is good only if it
#: meets every objective; a lost request is never good. Set by the CLI; empty = no goodput.
GOODPUT_SLO: dict[str, float] = {}

#: The quantiles kept per row for CDF plots (0, 5, …, 100 %).
CDF_POINTS = tuple(range(0, 101, 5))
TIMELINE_BUCKET_S = 5.0


@dataclass
class Sample:
    """One completed request's figures, in seconds (None where not measured: no TTFT without streaming)."""

    ttft: float | None
    e2el: float
    tpot: float | None
    finished: float  # seconds since the run started
    itl_max: float | None = None  # the longest gap between two content deltas of the reply


@dataclass
class RunResult:
    """The raw measurements of one run (one row)."""

    label: str  # e.g. "guide: 5 concurrent (gather + Semaphore)"
    approach: str  # "guide" | "claude-tui" | "bare-sdk"
    concurrency: int
    requests: int  # prompts submitted
    completed: int
    duration_s: float  # wall time, first request to last outcome
    latencies: list[float] = field(default_factory=list)  # seconds, completed requests (e2el)
    ttfts: list[float] = field(default_factory=list)
    tpots: list[float] = field(default_factory=list)
    output_tokens: int = 0  # of completed requests
    cpu_s: float | None = None  # client process CPU seconds over the run
    attempts: int | None = None  # counted by the server
    rate_limited: int | None = None  # 429s the server sent
    failed_attempts: int | None = None  # attempts the server did not complete normally
    server_cpu_s: float | None = None
    errors: dict[str, int] = field(default_factory=dict)  # what the client saw fail, by kind/message
    extra: dict[str, Any] = field(default_factory=dict)
    itls: list[float] = field(default_factory=list)  # gaps between content deltas, all requests
    samples: list[Sample] = field(default_factory=list)  # per completed request, for goodput and plots
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None
    overloaded: int | None = None  # 529s the server sent
    retry_wait_s: float | None = None  # Σ backoff the client announced (None: the client cannot tell)
    budget_wait_s: float | None = None  # Σ time the rate-limit budget held attempts back
    max_concurrent_requests: int | None = None  # the most in flight at once, seen by the client

    @property
    def failed(self) -> int:
        """Prompts without a result: lost."""
        return self.requests - self.completed


def _good(sample: Sample, slo: dict[str, float]) -> bool:
    values = {"ttft": sample.ttft, "tpot": sample.tpot, "e2el": sample.e2el, "itl": sample.itl_max}
    for metric, limit_ms in slo.items():
        value = values.get(metric)
        if value is None or value * 1000 > limit_ms:
            return False
    return True


def _quantiles(values: list[float]) -> list[float] | None:
    if not values:
        return None
    ordered = sorted(values)
    return [round(v * 1000, 1) for v in (percentile(ordered, q) for q in CDF_POINTS) if v is not None]


def _timeline(samples: list[Sample], slo: dict[str, float], duration: float) -> list[int]:
    """Good completions per ``TIMELINE_BUCKET_S`` bucket since the start (all completions without an SLO)."""
    buckets = [0] * (int(duration // TIMELINE_BUCKET_S) + 1) if duration > 0 else [0]
    for sample in samples:
        if _good(sample, slo):
            buckets[min(len(buckets) - 1, max(0, int(sample.finished // TIMELINE_BUCKET_S)))] += 1
    return buckets


def _stats(name: str, values: list[float]) -> dict[str, float | None]:
    """vLLM's mean_/median_/p99_<name>_ms triple (plus p90)."""
    ordered = sorted(values)
    return {f"mean_{name}_ms": _ms(mean(ordered)), f"median_{name}_ms": _ms(percentile(ordered, 50)),
            f"p90_{name}_ms": _ms(percentile(ordered, 90)), f"p99_{name}_ms": _ms(percentile(ordered, 99))}


def row(run: RunResult, *, ceiling_latency_s: float | None = None, use_littles_law: bool = True,
        claimed: dict[str, Any] | None = None, rate_limit_ceiling: float | None = None, **more: Any) -> dict[str, Any]:
    """The figures for one table/JSON row: vLLM ``bench serve`` names where the meaning is the same.

    ``ceiling_latency_s`` is W in Little's law; by default the measured mean latency.
    ``rate_limit_ceiling`` is the most requests/s the binding rate limit allows (None: unlimited).
    """
    duration = run.duration_s
    rps = run.completed / duration if duration > 0 else None
    mean_latency = mean(run.latencies)
    ceiling = None
    if use_littles_law:
        ceiling = littles_law_ceiling(run.concurrency, ceiling_latency_s if ceiling_latency_s is not None else mean_latency)
    attempts = run.attempts
    slo = dict(GOODPUT_SLO)
    good = sum(1 for s in run.samples if _good(s, slo)) if slo else run.completed
    prompt_tokens = run.input_tokens + run.cache_read_tokens + run.cache_write_tokens
    out: dict[str, Any] = {
        "label": run.label,
        "approach": run.approach,
        "max_concurrency": run.concurrency,
        "requests": run.requests,
        # -- vLLM `bench serve` fields ------------------------------------------------------------
        "duration": _round(duration, 2),
        "completed": run.completed,
        "failed": run.failed,
        "total_input_tokens": prompt_tokens,
        "total_output_tokens": run.output_tokens,
        "request_throughput": _round(rps),
        "request_goodput": _round(good / duration if duration > 0 and slo else None),
        "output_throughput": _round(run.output_tokens / duration if duration > 0 else None, 1),
        "max_concurrent_requests": run.max_concurrent_requests,
        **_stats("ttft", run.ttfts),
        **_stats("tpot", run.tpots),
        **_stats("itl", run.itls),
        **_stats("e2el", run.latencies),
        # -- ours -----------------------------------------------------------------------------
        "goodput_slo_ms": slo or None,
        "slo_attainment": _round(good / run.requests if slo and run.requests else None, 4),
        "littles_law_ceiling": _round(ceiling),
        "efficiency": _round(efficiency(rps, ceiling)),
        "rate_limit_ceiling": _round(rate_limit_ceiling),
        "error_rate": _round(run.failed / run.requests if run.requests else None, 4),
        "attempts": attempts,
        "attempts_per_request": _round(attempts / run.requests if attempts is not None and run.requests else None),
        "retries": max(0, attempts - run.requests) if attempts is not None else None,
        "failed_attempts": run.failed_attempts,
        "rate_limited": run.rate_limited,
        "overloaded": run.overloaded,
        "retry_wait_s": _round(run.retry_wait_s, 2),
        "budget_wait_s": _round(run.budget_wait_s, 2),
        "cache_hit_ratio": _round(run.cache_read_tokens / prompt_tokens if prompt_tokens else None, 4),
        "cost_usd": _round(run.cost_usd, 6),
        "cost_per_1000_good_usd": _round(run.cost_usd / good * 1000 if run.cost_usd is not None and good else None, 4),
        "cpu_s": _round(run.cpu_s, 3),
        "cpu_ms_per_request": _ms(run.cpu_s / run.completed if run.cpu_s is not None and run.completed else None),
        "server_cpu_s": _round(run.server_cpu_s, 3),
        "client_errors": dict(run.errors),
        "e2el_cdf_ms": _quantiles(run.latencies),
        "good_per_bucket": _timeline(run.samples, slo, duration),
        "bucket_s": TIMELINE_BUCKET_S,
    }
    if claimed:
        out["claimed"] = claimed
    out.update(run.extra)
    out.update(more)
    return out


def server_counts(log: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(attempts, 429s, attempts that did not end normally) from a simulator request log."""
    attempts = len(log)
    limited = sum(1 for r in log if r.get("status") == 429)
    bad = sum(1 for r in log if r.get("outcome") != "ok")
    return attempts, limited, bad


def overloads(log: list[dict[str, Any]]) -> int:
    """529s (overloaded) in a simulator request log."""
    return sum(1 for r in log if r.get("status") == 529)


def parse_goodput(items: list[str]) -> dict[str, float]:
    """``["ttft:500", "e2el:8000"]`` → ``{"ttft": 500.0, "e2el": 8000.0}``; ValueError with a clear message."""
    slo: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or name not in ("ttft", "tpot", "itl", "e2el"):
            raise ValueError(f"expected METRIC:MS with METRIC one of ttft, tpot, itl, e2el; got {item!r}")
        try:
            limit = float(value)
        except ValueError:
            raise ValueError(f"expected a number of milliseconds in {item!r}") from None
        if not math.isfinite(limit) or limit <= 0:
            raise ValueError(f"expected a positive number of milliseconds in {item!r}")
        slo[name] = limit
    return slo
