"""``bench --scenario serve``: vLLM ``bench serve``'s arrival modes, through the pool and the bare SDK.

- all at once (``--request-rate inf``, the default), as vLLM;
- Poisson (``--request-rate R``: exponential gaps, mean 1/R) or gamma (``--burstiness B``: gaps
  gamma-distributed with shape B and mean 1/R; B < 1 burstier, B > 1 more regular), as vLLM;
- closed loop: ``--max-concurrency N`` bounds the requests in flight (the pool's limit; the bare
  SDK's semaphore); unset, every arrived request goes at once.

Both peers get the same prompts at the same arrival times, each against its own identical simulator
(run one after the other: a client at a high rate would steal the other's CPU).
"""

from __future__ import annotations

import math
import random
from typing import Any

from anthropic import AsyncAnthropic

from .engine_run import make_pool, run_pool
from .guide import Guide
from .measure import row
from .scenarios import (API_KEY, MAX_TOKENS, TABLE_SIM, ScenarioResult, Settings, _timed_cpu, guide_run, make_prompts,
                        pool_run)
from .simproc import SimProcess


def arrival_times(n: int, rate: float, burstiness: float, seed: int = 0) -> list[float]:
    """Offsets (s) of ``n`` arrivals: all 0 at an infinite rate, else cumulative gamma gaps (vLLM's)."""
    if math.isinf(rate):
        return [0.0] * n
    rng = random.Random(seed)
    theta = 1.0 / (rate * burstiness)
    times, at = [], 0.0
    for _ in range(n):
        times.append(at)
        at += rng.gammavariate(burstiness, theta)
    return times


async def scenario_serve(settings: Settings) -> ScenarioResult:
    config: dict[str, Any] = dict(TABLE_SIM)
    if settings.quick:
        config.update(ttft_ms=100.0, tps=400.0)
    n = settings.requests or (20 if settings.quick else 200)
    rate, burstiness = settings.request_rate, settings.burstiness
    limit = settings.max_concurrency or n
    arrivals = arrival_times(n, rate, burstiness, seed=17)
    prompts = make_prompts(n, "serve ")
    mode = "all at once" if math.isinf(rate) else (f"Poisson at {rate:g}/s" if burstiness == 1 else
                                                   f"gamma at {rate:g}/s, burstiness {burstiness:g}")
    bound = f"max concurrency {settings.max_concurrency}" if settings.max_concurrency else "no concurrency bound"
    rows: list[dict[str, Any]] = []
    with SimProcess(**config) as sim:
        pool = make_pool(sim.base_url, API_KEY, limit)
        await run_pool(pool, ["warm-up"], model=settings.model, max_tokens=MAX_TOKENS)
        sim.reset()
        out = await run_pool(pool, prompts, model=settings.model, max_tokens=MAX_TOKENS, arrivals=arrivals)
        await pool.aclose()
        rows.append(row(pool_run(f"claude-tui pool: {mode}, {bound}", limit, n, out, sim.log()), use_littles_law=False,
                        request_rate=rate if math.isfinite(rate) else None, burstiness=burstiness))
    with SimProcess(**config) as sim:
        client = AsyncAnthropic(api_key=API_KEY, base_url=sim.base_url, max_retries=0)
        guide = Guide(client, model=settings.model, max_tokens=MAX_TOKENS)
        await guide.concurrent(["warm-up"], 1, stream=True)
        sim.reset()
        sdk, cpu = await _timed_cpu(guide.concurrent(prompts, limit, stream=True, arrivals=arrivals))
        await client.close()
        run = guide_run(f"bare SDK: {mode}, {bound}", limit, sdk, sim.log(), cpu, model=settings.model)
        run.approach = "bare-sdk"
        rows.append(row(run, use_littles_law=False, request_rate=rate if math.isfinite(rate) else None,
                        burstiness=burstiness))
    notes = [
        f"Arrivals: {mode} ({n} requests), {bound}; the same prompts and arrival times for both peers, each on its "
        "own fresh simulator, one after the other.",
        "Simulator: TTFT 0.5 s and 70 tokens/s (±30 %), replies ≈ 45 tokens, no rate limit (quick: TTFT 0.1 s, 400 tok/s).",
        "Bare SDK: gather + Semaphore + messages.stream, max_retries=0 (no engine).",
    ]
    return ScenarioResult("serve", f"Arrivals as vLLM bench serve: {mode}, {bound}", rows, config, notes)


