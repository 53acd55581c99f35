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
"""

from __future__ import annotations

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


@dataclass
class RunResult:
    """The raw measurements of one run (one row)."""

    label: str  # e.g. "guide: 5 concurrent (gather + Semaphore)"
    approach: str  # "guide" | "claude-tui"
    concurrency: int
    requests: int  # prompts submitted
    completed: int
    duration_s: float  # wall time, first request to last outcome
    latencies: list[float] = field(default_factory=list)  # seconds, completed requests
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

    @property
    def failed(self) -> int:
        """Prompts without a result: lost."""
        return self.requests - self.completed


def row(run: RunResult, *, ceiling_latency_s: float | None = None, use_littles_law: bool = True,
        claimed: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    """The figures for one table/JSON row.

    ``ceiling_latency_s`` is W in Little's law; by default the measured mean latency.
    """
    duration = run.duration_s
    rps = run.completed / duration if duration > 0 else None
    mean_latency = mean(run.latencies)
    ceiling = None
    if use_littles_law:
        ceiling = littles_law_ceiling(run.concurrency, ceiling_latency_s if ceiling_latency_s is not None else mean_latency)
    attempts = run.attempts
    out: dict[str, Any] = {
        "label": run.label,
        "approach": run.approach,
        "concurrency": run.concurrency,
        "requests": run.requests,
        "completed": run.completed,
        "failed": run.failed,
        "duration_s": _round(duration, 2),
        "requests_per_s": _round(rps),
        "output_tokens_per_s": _round(run.output_tokens / duration if duration > 0 else None, 1),
        "ceiling_requests_per_s": _round(ceiling),
        "efficiency": _round(efficiency(rps, ceiling)),
        "ttft_mean_ms": _ms(mean(run.ttfts)),
        "ttft_p50_ms": _ms(percentile(run.ttfts, 50)),
        "ttft_p99_ms": _ms(percentile(run.ttfts, 99)),
        "latency_mean_ms": _ms(mean_latency),
        "latency_p50_ms": _ms(percentile(run.latencies, 50)),
        "latency_p99_ms": _ms(percentile(run.latencies, 99)),
        "tpot_mean_ms": _ms(mean(run.tpots)),
        "error_rate": _round(run.failed / run.requests if run.requests else None, 4),
        "attempts": attempts,
        "attempts_per_request": _round(attempts / run.requests if attempts is not None and run.requests else None),
        "retries": max(0, attempts - run.requests) if attempts is not None else None,
        "failed_attempts": run.failed_attempts,
        "rate_limited": run.rate_limited,
        "cpu_s": _round(run.cpu_s, 3),
        "cpu_ms_per_request": _ms(run.cpu_s / run.completed if run.cpu_s is not None and run.completed else None),
        "server_cpu_s": _round(run.server_cpu_s, 3),
        "client_errors": dict(run.errors),
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
