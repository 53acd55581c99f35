"""claude-tui rows: prompts through the engine's RequestPool, figures from its Metrics listener."""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from dataclasses import dataclass, field

from ..engine.events import AttemptFailed, Done, Failed, JobEvent, Started
from ..engine.job import Job
from ..engine.metrics import Metrics
from ..engine.pool import RequestPool
from ..engine.retry import RetryPolicy


@dataclass
class PoolOutcome:
    done: list[Done]
    failed: list[Failed]
    metrics: Metrics
    started: float
    finished: float
    cpu_s: float
    attempt_errors: Counter[str] = field(default_factory=Counter)
    #: First attempt sent → Done, retries and backoff included: how long the job held its pool slot,
    #: and the same span the guide's rows measure around their (invisibly retried) call.
    latencies: list[float] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return len(self.done)

    @property
    def final_attempt_latencies(self) -> list[float]:
        """The engine's own ``Timings.latency``: the successful attempt only."""
        return [d.timings.latency for d in self.done if d.timings.latency is not None]

    @property
    def ttfts(self) -> list[float]:
        return [d.timings.ttft for d in self.done if d.timings.ttft is not None]

    @property
    def tpots(self) -> list[float]:
        """(final attempt's latency − TTFT) / (output tokens − 1), as the Metrics define it."""
        out = []
        for d in self.done:
            ttft, latency, tokens = d.timings.ttft, d.timings.latency, d.usage.output_tokens
            if ttft is not None and latency is not None and tokens > 1:
                out.append((latency - ttft) / (tokens - 1))
        return out

    @property
    def output_tokens(self) -> int:
        return sum(d.usage.output_tokens for d in self.done)


def _label(event: AttemptFailed) -> str:
    """The failure kind; for a 429, which limit the server named (requests, input or output tokens)."""
    if event.kind == "rate_limit":
        text = event.message.lower()
        for limit in ("output tokens", "input tokens", "requests"):
            if f"{limit} per minute" in text:
                return f"rate_limit ({limit})"
    return event.kind


def make_pool(base_url: str, api_key: str, concurrency: int, *, policy: RetryPolicy | None = None,
              stall_timeout: float | None = 30.0) -> RequestPool:
    return RequestPool(api_key=api_key, base_url=base_url, limit=concurrency, policy=policy, stall_timeout=stall_timeout)


async def run_pool(pool: RequestPool, prompts: list[str], *, model: str, max_tokens: int) -> PoolOutcome:
    """Submit every prompt at once (the pool queues them FIFO) and wait for all outcomes.

    Measured: wall time from the first submit to the last outcome, and the client process's CPU
    seconds over the same span (the simulator runs in another process).
    """
    metrics = Metrics(window=3600.0, per_tag=False)
    errors: Counter[str] = Counter()
    first_sent: dict[str, float] = {}
    latencies: list[float] = []

    def on_event(event: JobEvent) -> None:
        metrics.observe(event)
        if isinstance(event, Started):
            first_sent.setdefault(event.job_id, event.at)
        elif isinstance(event, AttemptFailed):
            errors[_label(event)] += 1
        elif isinstance(event, Done):
            latencies.append(event.at - first_sent.pop(event.job_id, event.timings.submitted))
        elif isinstance(event, Failed):
            first_sent.pop(event.job_id, None)

    unsubscribe = pool.add_listener(on_event)
    gc.collect()  # garbage of earlier runs is not this run's cost
    try:
        cpu0 = time.process_time()
        started = time.monotonic()
        handles = [pool.submit(Job.from_prompt(p, model=model, max_tokens=max_tokens), stream_events=False) for p in prompts]
        outcomes = await asyncio.gather(*(h.result() for h in handles))
        finished = time.monotonic()
        cpu = time.process_time() - cpu0
    finally:
        unsubscribe()
    done = [o for o in outcomes if isinstance(o, Done)]
    failed = [o for o in outcomes if isinstance(o, Failed)]
    return PoolOutcome(done, failed, metrics, started, finished, cpu, errors, latencies)
