"""The guide's approach really loses prompts; claude-tui's pool, in the same setup, does not.

Real SDK, real loopback HTTP, the simulator (in-process here: these tests measure no CPU).
"""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from claude_tui.bench.engine_run import make_pool, run_pool
from claude_tui.bench.guide import Guide
from claude_tui.bench.scenarios import API_KEY, guide_client, make_prompts
from claude_tui.engine.retry import RetryPolicy
from claude_tui.simulator import Simulator, SimulatorConfig

FAST = dict(ttft_ms=20, tps=2000, reply_tokens=20, fixed_length=True, jitter=0.0, seed=3, rpm=0, itpm=0, otpm=0)
MODEL = "claude-sonnet-4-6"


async def _no_sleep(_seconds: float) -> None:
    """Compress the wrapper's own sleeps (1, 2, 4, 8 s); the SDK's retries keep their real timing."""


@pytest.fixture
async def sims() -> AsyncIterator[list[Simulator]]:
    started: list[Simulator] = []
    yield started
    for sim in started:
        await sim.stop()


async def _sim(sims: list[Simulator], **overrides: object) -> Simulator:
    sim = Simulator(SimulatorConfig(**{**FAST, **overrides}))
    await sim.start()
    sims.append(sim)
    return sim


async def test_guide_swallows_an_overload_the_pool_rides_out(sims: list[Simulator]) -> None:
    prompts = make_prompts(3, "overload ")
    # The guide: the first prompt meets three 529s — the SDK's own two retries are spent, the text has
    # no "rate limit", so the wrapper re-raises and the coroutine's handler turns the prompt into None.
    sim_a = await _sim(sims)
    sim_a.inject("overloaded", count=3)
    client = guide_client(sim_a.base_url)
    out = await Guide(client, model=MODEL, max_tokens=64, sleep=_no_sleep).concurrent(prompts, 1)
    await client.close()
    assert out.results[0] is None and all(out.results[1:])
    assert out.lost == 1
    assert dict(out.errors) == {"OverloadedError (529)": 1}
    log = sim_a.request_log
    assert len(log) == 3 + 2  # 3 attempts for the lost prompt (2 of them invisible SDK retries)
    assert sorted(r.retry_count or 0 for r in log[:3]) == [0, 1, 2]

    # claude-tui, the same three 529s: retried by the engine's policy, nothing lost.
    sim_b = await _sim(sims)
    sim_b.inject("overloaded", count=3)
    pool = make_pool(sim_b.base_url, API_KEY, 1, policy=RetryPolicy(max_attempts=5, base=0.05, cap=0.2))
    result = await run_pool(pool, prompts, model=MODEL, max_tokens=64)
    await pool.aclose()
    assert result.completed == 3 and not result.failed
    assert sim_b.stats.requests_total == 3 + 3
    assert result.attempt_errors == {"overloaded": 3}


async def test_guide_wrapper_gives_up_after_fifteen_attempts(sims: list[Simulator]) -> None:
    # A rate limit that does not lift in time: every attempt is a 429. The SDK retries each call
    # twice (retry-after 0, so its own short backoff), the wrapper five times: 15 attempts, then lost.
    sim = await _sim(sims)
    sim.inject("rate_limit", count=15, retry_after=0)
    client = guide_client(sim.base_url)
    out = await Guide(client, model=MODEL, max_tokens=64, sleep=_no_sleep).concurrent(make_prompts(2, "rl "), 1)
    await client.close()
    assert out.results[0] is None and out.results[1]
    assert dict(out.errors) == {"MaxRetriesExceeded": 1}
    log = sim.request_log
    assert len(log) == 16
    assert sum(1 for r in log if r.status == 429) == 15
    assert sum(1 for r in log if (r.retry_count or 0) > 0) == 10  # invisible SDK retries


async def test_pool_loses_nothing_where_the_guide_loses_to_mixed_faults(sims: list[Simulator]) -> None:
    # Three failures in a row, of three kinds: a 500, a 529, then a connection dropped mid-reply.
    prompts = make_prompts(4, "mixed ")
    faults = [("api_error", None), ("overloaded", None), ("disconnect", 3)]
    sim_a = await _sim(sims)
    for kind, after in faults:
        sim_a.inject(kind, after_tokens=after)
    client = guide_client(sim_a.base_url)
    out = await Guide(client, model=MODEL, max_tokens=64, sleep=_no_sleep).concurrent(prompts, 1)
    await client.close()
    assert out.lost == 1  # the SDK's three attempts are spent; no "rate limit" in the text: dropped
    assert dict(out.errors) == {"APIConnectionError": 1}

    sim_b = await _sim(sims)
    for kind, after in faults:
        sim_b.inject(kind, after_tokens=after)
    # The engine's default attempt budget; only the backoff is shortened to keep the test quick.
    policy = RetryPolicy(max_attempts=RetryPolicy().max_attempts, base=0.05, cap=0.2)
    pool = make_pool(sim_b.base_url, API_KEY, 1, policy=policy, stall_timeout=2.0)
    result = await run_pool(pool, prompts, model=MODEL, max_tokens=64)
    await pool.aclose()
    assert result.completed == 4 and not result.failed
    assert result.attempt_errors == {"server_error": 1, "overloaded": 1, "disconnect": 1}


async def test_pool_loses_nothing_under_a_tight_request_limit(sims: list[Simulator]) -> None:
    # 60 RPM enforced per second (a bucket of one request): six jobs in flight, one gets through a second.
    sim = await _sim(sims, rpm=60, burst=1.0)
    pool = make_pool(sim.base_url, API_KEY, 6)
    result = await run_pool(pool, make_prompts(6, "tight "), model=MODEL, max_tokens=64)
    await pool.aclose()
    assert result.completed == 6, f"lost {len(result.failed)}: {[f.kind for f in result.failed]}"
