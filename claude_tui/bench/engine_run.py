"""claude-tui rows: prompts through the engine's RequestPool, figures from its Metrics listener."""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from itertools import islice
from dataclasses import dataclass, field

from ..engine.events import AttemptFailed, BackingOff, Cancelled, Done, Failed, JobEvent, Started, TextDelta, Throttled
from ..engine.job import Job
from ..engine.metrics import Metrics
from ..engine.pool import RequestPool
from ..engine.retry import RetryPolicy
from .measure import Sample


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
    itls: list[float] = field(default_factory=list)  # gaps between text deltas of the final attempts
    samples: list[Sample] = field(default_factory=list)
    retry_wait_s: float = 0.0  # Σ BackingOff delays
    budget_wait_s: float = 0.0  # Σ Throttled delays
    max_in_flight: int = 0

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

    def tokens(self) -> tuple[int, int, int]:
        """(uncached input, cache read, cache write) tokens of the completed requests."""
        return (sum(d.usage.input_tokens for d in self.done), sum(d.usage.cache_read_input_tokens for d in self.done),
                sum(d.usage.cache_creation_input_tokens for d in self.done))

    @property
    def cost_usd(self) -> float:
        return sum(d.cost or 0.0 for d in self.done)


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


async def run_pool(pool: RequestPool, prompts: list[str], *, model: str, max_tokens: int,
                   arrivals: list[float] | None = None) -> PoolOutcome:
    """Submit the prompts as ``run`` does — a few ahead of the pool's free slots, one more as each
    job ends (submitting all 1,000 at once held the first request back 12.7 ms at 50 in flight,
    against 2.7 ms for the bare SDK's gather) — or each at its ``arrivals`` offset (seconds from the
    start), and wait for all outcomes.

    Measured: wall time from the first submit to the last outcome, and the client process's CPU
    seconds over the same span (the simulator runs in another process).
    """
    metrics = Metrics(window=3600.0, per_tag=False)
    errors: Counter[str] = Counter()
    first_sent: dict[str, float] = {}
    last_delta: dict[str, float] = {}
    job_itls: dict[str, list[float]] = {}
    latencies: list[float] = []
    itls: list[float] = []
    samples: list[Sample] = []
    waits = {"retry": 0.0, "budget": 0.0}
    running: set[str] = set()
    peak = 0
    t0 = time.monotonic()
    loop = asyncio.get_running_loop()
    all_ended = asyncio.Event()
    ended = 0
    outcomes: list[JobEvent] = []  # each job's terminal event
    pending = iter(prompts)
    unsubmitted = len(prompts)

    def feed(count: int) -> None:
        nonlocal unsubmitted
        for p in islice(pending, count):
            unsubmitted -= 1
            pool.submit(Job.from_prompt(p, model=model, max_tokens=max_tokens), stream_events=False)

    def on_event(event: JobEvent) -> None:
        nonlocal peak, ended
        metrics.observe(event)
        job = event.job_id
        if isinstance(event, Started):
            first_sent.setdefault(job, event.at)
            running.add(job)
            peak = max(peak, len(running))
            last_delta.pop(job, None)
            job_itls[job] = []  # ITL counts the attempt that succeeds
        elif isinstance(event, TextDelta):
            previous = last_delta.get(job)
            if previous is not None:
                job_itls[job].append(event.at - previous)
            last_delta[job] = event.at
        elif isinstance(event, AttemptFailed):
            errors[_label(event)] += 1
        elif isinstance(event, BackingOff):
            waits["retry"] += event.delay
        elif isinstance(event, Throttled):
            waits["budget"] += event.delay
        elif isinstance(event, Done):
            e2el = event.at - first_sent.pop(job, event.timings.submitted)
            latencies.append(e2el)
            gaps = job_itls.pop(job, [])
            itls.extend(gaps)
            t = event.timings
            tokens = event.usage.output_tokens
            tpot = (t.latency - t.ttft) / (tokens - 1) if t.ttft is not None and t.latency is not None and tokens > 1 else None
            samples.append(Sample(t.ttft, e2el, tpot, event.at - t0, max(gaps) if gaps else None))
        if isinstance(event, (Done, Failed, Cancelled)):
            outcomes.append(event)
            ended += 1
            if ended == len(prompts):
                all_ended.set()
            elif arrivals is None and unsubmitted:
                loop.call_soon(feed, 1)  # as `run` does: the next prompt, outside the pool's emit
            running.discard(job)
            first_sent.pop(job, None)
            job_itls.pop(job, None)
            last_delta.pop(job, None)

    unsubscribe = pool.add_listener(on_event, deltas=True)  # ITL is the gap between text deltas
    gc.collect()  # garbage of earlier runs is not this run's cost
    gc.freeze()  # as `run` does after start-up: what lives now stays out of the full collections (see headless/run.py)
    try:
        cpu0 = time.process_time()
        started = t0 = time.monotonic()
        if arrivals is None:
            feed(max(64, pool.limit * 4))  # `run`'s lead (headless/run.py)
        else:
            for index in range(len(prompts)):
                delay = started + arrivals[index] - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)  # the arrival schedule (open loop), not synchronisation
                feed(1)
        if prompts:
            await all_ended.wait()
        finished = time.monotonic()
        cpu = time.process_time() - cpu0
    finally:
        unsubscribe()
    done = [o for o in outcomes if isinstance(o, Done)]
    failed = [o for o in outcomes if isinstance(o, Failed)]
    return PoolOutcome(done, failed, metrics, started, finished, cpu, errors, latencies, itls, samples, waits["retry"],
                       waits["budget"], peak)
