"""The four benchmark scenarios: table, scaling, rate-limit, faults.

Each runs against its own simulator process(es) (``SimProcess``), so the client's CPU time is
the client's alone and server-side counts (every attempt, including the ones the SDK retries
invisibly) never mix between approaches.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from anthropic import AsyncAnthropic

from .engine_run import PoolOutcome, make_pool, run_pool
from .guide import Guide, GuideOutcome
from ..engine.events import Usage
from ..engine.pricing import PriceTable
from .measure import RunResult, overloads, percentile, row, server_counts
from .simproc import SimProcess

MODEL = "claude-sonnet-4-6"
MAX_TOKENS = 1024
API_KEY = "sim-key-not-secret"  # the simulator accepts any key; never a real one

SCENARIOS = ("table", "scaling", "rate-limit", "faults")

#: The guide's printed table: (label, concurrency, requests/s, mean latency ms, error rate).
GUIDE_CLAIMS = (
    ("one request at a time", 1, 3.2, 1200.0, 0.005),
    ("5 concurrent", 5, 15.7, 800.0, 0.012),
    ("5 concurrent + streaming", 5, 18.3, 650.0, 0.008),
)

#: A realistic model for the table: TTFT ≈ 0.5 s, ≈ 70 tokens/s, both jittered ±30 %, reply lengths
#: log-normal around 45 tokens (a two-sentence answer) so a non-streamed reply takes ≈ 1.2 s — the
#: latency the guide prints for its first row. No rate limit: the guide's table is about concurrency.
TABLE_SIM: dict[str, Any] = dict(rpm=0, itpm=0, otpm=0, ttft_ms=500.0, tps=70.0, reply_tokens=45, jitter=0.3, seed=11)

#: Scaling: every reply takes exactly 1 s (TTFT 0.5 s, then 50 tokens evenly), no limit, no jitter,
#: so the Little's-law ceiling is exactly concurrency / 1 s.
SCALING_SIM: dict[str, Any] = dict(rpm=0, itpm=0, otpm=0, fixed_latency_ms=1000.0, ttft_ms=500.0, reply_tokens=50,
                                   fixed_length=True, jitter=0.0, seed=12)
#: Requests per level: this many waves of ``concurrency``. A finite run also measures its ends: the
#: first wave is built and sent one request at a time (≈ 0.45 ms each: 45 ms at 100 in flight), and
#: the run ends when the latest chain of requests ends (chains drift apart by each request's few ms
#: of jitter: 130–190 ms at 100 in flight). Over 4 waves those ends cost 2–5 % of the ceiling at 100
#: in flight, for the pool and the bare SDK alike; over 20 they weigh a fifth as much, and the figure
#: is the steady throughput that Little's law bounds.
SCALING_WAVES = 20

#: Rate limit: 60 requests/min and 3,000 output tokens/min, buckets of 10 s (10 requests and 500 output
#: tokens at most in a burst, refilled continuously at 1 request/s and 50 tokens/s). On actual usage
#: (replies ≈ 48 tokens) the output-token limit would allow ≈ 62 replies/min, just above the request
#: limit; but like the API the simulator reserves max_tokens (256 here) when a request is admitted and
#: settles it at the end, so the 500-token bucket admits about one request at a time and the 429s name
#: the output-token limit. Either way the rate is held near 1 request/s.
RATE_SIM: dict[str, Any] = dict(rpm=60, itpm=0, otpm=3000, burst=10.0, ttft_ms=500.0, tps=70.0, reply_tokens=45,
                                jitter=0.3, seed=13)
RATE_MAX_TOKENS = 256

#: Faults: 10 % of attempts fail, in every way the simulator knows (a stall lasts 5 s; the pool gives
#: up on a silent stream after 2 s — the usual gap between events is ≈ 15–60 ms, TTFT ≤ 0.65 s).
FAULT_RATES = {"rate_limit": 0.02, "overloaded": 0.02, "api_error": 0.02, "stream_error": 0.015, "disconnect": 0.015,
               "stall": 0.01}
FAULT_SIM: dict[str, Any] = dict(rpm=0, itpm=0, otpm=0, ttft_ms=500.0, tps=70.0, reply_tokens=45, jitter=0.3, seed=14,
                                 faults=FAULT_RATES, stall_seconds=5.0)
FAULT_STALL_TIMEOUT = 2.0


@dataclass
class Settings:
    quick: bool = False
    requests: int | None = None  # overrides every scenario's request count
    concurrency: list[int] | None = None  # overrides the scaling levels
    model: str = MODEL
    # Arrival modes (the serve scenario), as vLLM's `bench serve`: inf = all at once; else Poisson
    # (burstiness 1) or gamma arrivals at this mean rate; max_concurrency bounds a closed loop.
    request_rate: float = float("inf")
    burstiness: float = 1.0
    max_concurrency: int | None = None


@dataclass
class ScenarioResult:
    name: str
    title: str
    rows: list[dict[str, Any]]
    simulator: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    load_average: dict[str, list[float]] = field(default_factory=dict)  # 1/5/15-min, before and after

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "simulator": self.simulator, "rows": self.rows,
                "summary": self.summary, "notes": self.notes, "duration_s": round(self.duration_s, 2),
                "load_average": self.load_average}


def make_prompts(n: int, tag: str = "") -> list[str]:
    """Distinct prompts: the simulator seeds each reply (and its length) from the prompt."""
    topics = ("token buckets", "exponential backoff", "streaming replies", "connection pools", "Little's law",
              "percentiles", "retry-after headers", "queueing", "latency budgets", "rate limits")
    return [f"{tag}Question {i + 1}: explain {topics[i % len(topics)]} in two sentences." for i in range(n)]


def guide_client(base_url: str) -> AsyncAnthropic:
    """The guide's client: the SDK's defaults (max_retries=2)."""
    return AsyncAnthropic(api_key=API_KEY, base_url=base_url)


def _server_side(run: RunResult, log: list[dict[str, Any]]) -> RunResult:
    run.attempts, run.rate_limited, run.failed_attempts = server_counts(log)
    run.overloaded = overloads(log)
    run.extra["sdk_hidden_retries"] = sum(1 for r in log if (r.get("retry_count") or 0) > 0)
    return run


def guide_run(label: str, concurrency: int, out: GuideOutcome, log: list[dict[str, Any]], cpu_s: float | None = None,
              model: str = MODEL) -> RunResult:
    usage = Usage(out.input_tokens, out.output_tokens, out.cache_write_tokens, out.cache_read_tokens)
    run = RunResult(label, "guide", concurrency, len(out.results), out.completed, out.finished - out.started,
                    latencies=out.latencies, ttfts=out.ttfts, tpots=out.tpots, output_tokens=out.output_tokens,
                    cpu_s=cpu_s, errors=dict(out.errors), itls=out.itls, samples=out.samples,
                    input_tokens=out.input_tokens, cache_read_tokens=out.cache_read_tokens,
                    cache_write_tokens=out.cache_write_tokens, cost_usd=PriceTable().cost(model, usage),
                    max_concurrent_requests=out.max_in_flight)
    return _server_side(run, log)


def pool_run(label: str, concurrency: int, requests: int, out: PoolOutcome, log: list[dict[str, Any]]) -> RunResult:
    errors = {f"attempt failed: {k}": v for k, v in out.attempt_errors.items()}
    for f in out.failed:
        errors[f"lost: {f.kind}"] = errors.get(f"lost: {f.kind}", 0) + 1
    uncached, cache_read, cache_write = out.tokens()
    run = RunResult(label, "claude-tui", concurrency, requests, out.completed, out.finished - out.started,
                    latencies=out.latencies, ttfts=out.ttfts, tpots=out.tpots, output_tokens=out.output_tokens,
                    cpu_s=out.cpu_s, errors=errors, itls=out.itls, samples=out.samples, input_tokens=uncached,
                    cache_read_tokens=cache_read, cache_write_tokens=cache_write, cost_usd=out.cost_usd,
                    retry_wait_s=out.retry_wait_s, budget_wait_s=out.budget_wait_s,
                    max_concurrent_requests=out.max_in_flight)
    p99 = percentile(out.final_attempt_latencies, 99)
    run.extra["final_attempt_latency_p99_ms"] = None if p99 is None else round(p99 * 1000, 1)
    return _server_side(run, log)


async def _timed_cpu(coro: Awaitable[Any]) -> tuple[Any, float]:
    gc.collect()  # garbage of earlier runs is not this run's cost
    cpu0 = time.process_time()
    result = await coro
    return result, time.process_time() - cpu0


# -- 1. the guide's table ------------------------------------------------------------------------
async def scenario_table(settings: Settings) -> ScenarioResult:
    n_seq = settings.requests or (3 if settings.quick else 12)
    n_conc = settings.requests or (10 if settings.quick else 40)
    prompts = make_prompts(max(n_seq, n_conc), "table ")
    rows: list[dict[str, Any]] = []
    with SimProcess(**TABLE_SIM) as sim:
        client = guide_client(sim.base_url)
        guide = Guide(client, model=settings.model, max_tokens=MAX_TOKENS)
        await guide.sequential(["warm-up"])  # first-call imports and the first connection, not measured
        runs: list[tuple[Callable[[], Awaitable[GuideOutcome]], tuple[str, int, float, float, float]]] = [
            (lambda: guide.sequential(prompts[:n_seq]), GUIDE_CLAIMS[0]),
            (lambda: guide.concurrent(prompts[:n_conc], 5), GUIDE_CLAIMS[1]),
            (lambda: guide.concurrent(prompts[:n_conc], 5, stream=True), GUIDE_CLAIMS[2]),
        ]
        for make, (label, conc, c_rps, c_lat, c_err) in runs:
            sim.reset()
            out, cpu = await _timed_cpu(make())
            run = guide_run(f"guide: {label}", conc, out, sim.log(), cpu)
            claimed = {"requests_per_s": c_rps, "latency_mean_ms": c_lat, "error_rate": c_err,
                       "ceiling_requests_per_s": round(conc / (c_lat / 1000), 3),
                       "claimed_over_ceiling": round(c_rps / (conc / (c_lat / 1000)), 2)}
            rows.append(row(run, claimed=claimed))
        await client.close()

        pool = make_pool(sim.base_url, API_KEY, 5)
        await run_pool(pool, ["warm-up"], model=settings.model, max_tokens=MAX_TOKENS)
        sim.reset()
        out = await run_pool(pool, prompts[:n_conc], model=settings.model, max_tokens=MAX_TOKENS)
        rows.append(row(pool_run("claude-tui pool: 5 concurrent (streaming)", 5, n_conc, out, sim.log())))
        await pool.aclose()
    notes = [
        "Simulator: TTFT 0.5 s and 70 tokens/s (each jittered ±30 %), replies log-normal around 45 tokens, "
        "so a non-streamed reply takes ≈ 1.2 s, the guide's row-1 latency; no rate limit.",
        "Ceiling = Little's law, concurrency ÷ measured mean latency; efficiency = measured requests/s ÷ ceiling.",
        "The guide's printed figures exceed their own ceilings (N ÷ printed latency: 0.83, 6.25, 7.69 req/s) 3.8×, 2.5× and 2.4×.",
        "Streaming brings the first token forward (TTFT) but the reply takes as long to finish: compare TTFT with latency.",
    ]
    return ScenarioResult("table", "The guide's table, reproduced", rows, dict(TABLE_SIM), notes)


# -- 2. scaling ----------------------------------------------------------------------------------
def scaling_levels(settings: Settings) -> list[int]:
    if settings.concurrency:
        return list(settings.concurrency)
    return [1, 5, 20] if settings.quick else [1, 2, 5, 10, 20, 50, 100, 200]


async def scenario_scaling(settings: Settings) -> ScenarioResult:
    config = dict(SCALING_SIM)
    if settings.quick:
        config["fixed_latency_ms"] = 500.0
        config["ttft_ms"] = 250.0
    latency_s = config["fixed_latency_ms"] / 1000
    rows: list[dict[str, Any]] = []
    levels = scaling_levels(settings)
    # The same load through the bare SDK (no engine), right after the pool's at each level (the top
    # one only with --quick): what the engine costs, under the same load average.
    reference_levels = {max(levels)} if settings.quick else set(levels)
    with SimProcess(**config) as sim:
        for conc in levels:
            n = settings.requests or (max(2 * conc, 4) if settings.quick else SCALING_WAVES * conc)
            pool = make_pool(sim.base_url, API_KEY, conc)
            # Warm-up wave: opens `conc` connections and pays first-call costs; not measured.
            await run_pool(pool, make_prompts(conc, f"warm {conc} "), model=settings.model, max_tokens=MAX_TOKENS)
            sim.reset()
            server_cpu0 = sim.stats()["server_cpu_s"]
            out = await run_pool(pool, make_prompts(n, f"c{conc} "), model=settings.model, max_tokens=MAX_TOKENS)
            stats = sim.stats()
            run = pool_run(f"claude-tui pool: {conc} in flight", conc, n, out, sim.log())
            run.server_cpu_s = stats["server_cpu_s"] - server_cpu0
            rows.append(row(run, ceiling_latency_s=latency_s, peak_in_flight=stats["peak_in_flight"]))
            await pool.aclose()
            if conc in reference_levels:
                rows.append(await _bare_sdk_row(sim, conc, n, settings, latency_s))
    notes = [
        f"Simulator: every reply takes exactly {latency_s * 1000:g} ms ({config['reply_tokens']} tokens after a "
        f"{config['ttft_ms']:g} ms TTFT), no rate limit, no jitter.",
        f"Ceiling = concurrency ÷ {latency_s:g} s (Little's law); efficiency = measured requests/s ÷ ceiling.",
        "CPU = client process CPU seconds (time.process_time) over the run ÷ completed requests; "
        "the simulator runs in a separate process. Each level runs a warm-up wave first (not measured).",
        f"Each level sends {2 if settings.quick else SCALING_WAVES} waves of requests, so the run's start (the first wave "
        "is sent one request at a time) and end (the run waits for its latest chain of requests) weigh little.",
        "Reference rows: the same load through the bare SDK (gather + Semaphore + messages.stream, no engine), "
        "to separate the engine's cost from the SDK's and the machine's.",
    ]
    return ScenarioResult("scaling", "Scaling: claude-tui's pool against a fixed-latency server", rows, config, notes)


async def _bare_sdk_row(sim: SimProcess, conc: int, n: int, settings: Settings, latency_s: float) -> dict[str, Any]:
    """Reference: gather + Semaphore(conc) + ``messages.stream(...).text_stream``, no engine."""
    client = AsyncAnthropic(api_key=API_KEY, base_url=sim.base_url, max_retries=0)
    guide = Guide(client, model=settings.model, max_tokens=MAX_TOKENS)
    await guide.concurrent(make_prompts(conc, f"warm sdk {conc} "), conc, stream=True)
    sim.reset()
    server_cpu0 = sim.stats()["server_cpu_s"]
    out, cpu = await _timed_cpu(guide.concurrent(make_prompts(n, f"sdk c{conc} "), conc, stream=True))
    stats = sim.stats()
    await client.close()
    run = guide_run(f"reference: bare SDK, {conc} in flight (no engine)", conc, out, sim.log(), cpu)
    run.approach = "bare-sdk"
    run.server_cpu_s = stats["server_cpu_s"] - server_cpu0
    return row(run, ceiling_latency_s=latency_s, peak_in_flight=stats["peak_in_flight"])


# -- 4. faults -----------------------------------------------------------------------------------
async def scenario_faults(settings: Settings) -> ScenarioResult:
    config = dict(FAULT_SIM)
    if settings.quick:
        config.update(ttft_ms=100.0, tps=400.0, stall_seconds=3.0)
    n = settings.requests or (40 if settings.quick else 200)
    conc = 10 if settings.quick else 20
    prompts = make_prompts(n, "faults ")
    with SimProcess(**config) as sim_a, SimProcess(**config) as sim_b:
        pool = make_pool(sim_b.base_url, API_KEY, conc, stall_timeout=FAULT_STALL_TIMEOUT)
        client = guide_client(sim_a.base_url)
        guide = Guide(client, model=settings.model, max_tokens=MAX_TOKENS)
        out_a, out_b = await asyncio.gather(
            guide.concurrent(prompts, conc),
            run_pool(pool, prompts, model=settings.model, max_tokens=MAX_TOKENS),
        )
        await client.close()
        await pool.aclose()
        run_a = guide_run(f"guide: gather + Semaphore({conc}) + create", conc, out_a, sim_a.log())
        run_b = pool_run(f"claude-tui pool: {conc} in flight, stall timeout {FAULT_STALL_TIMEOUT:g} s", conc, n, out_b,
                         sim_b.log())
        fault_counts = {"guide": sim_a.stats()["fault_counts"], "claude-tui": sim_b.stats()["fault_counts"]}
    rows = [row(run, use_littles_law=False, lost=run.failed) for run in (run_b, run_a)]
    notes = [
        "Simulator: 10 % of attempts fail — " + ", ".join(f"{k} {v:.1%}" for k, v in FAULT_RATES.items())
        + f"; a stall goes silent for {config['stall_seconds']:g} s then finishes; streams fail part-way through.",
        f"claude-tui: default retry policy (5 attempts, jittered backoff, retry-after honoured), stall timeout "
        f"{FAULT_STALL_TIMEOUT:g} s. The guide: non-streaming, so a mid-stream error arrives as a 529 and a stall "
        "is simply waited out.",
        "Both run at the same time against two separate, identical simulators.",
    ]
    return ScenarioResult("faults", "Faults: 10 % of attempts fail in mixed ways", rows, config, notes,
                          summary={"fault_counts": fault_counts})
