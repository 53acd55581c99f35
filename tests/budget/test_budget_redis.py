"""The budget shared through a real redis-server: processes together, Redis gone, the key never written."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_tui.engine.budget import Budget
from claude_tui.engine.budget_redis import key_id, open_redis_store
from claude_tui.engine.events import Done, JobEvent
from claude_tui.engine.job import Job
from claude_tui.engine.pool import RequestPool
from claude_tui.engine.retry import RetryPolicy

pytestmark = pytest.mark.timeout(120)

WORKER = Path(__file__).with_name("worker.py")
ROOT = Path(__file__).resolve().parents[2]


async def _start_worker(sim: Any, url: str, n: int) -> tuple[asyncio.subprocess.Process, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), sim.base_url, url, str(n), "8",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    ready = json.loads(line)
    assert ready["ready"] is True
    return proc, ready["peers"]


async def _finish(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 90)
    await asyncio.wait_for(proc.wait(), 30)
    return json.loads(line)


def _most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def test_two_processes_on_one_redis_never_exceed_the_limit_together(make_sim, redis_server) -> None:
    # 240 RPM = 4 a second; the simulator holds 2 s of refill, and so does each budget once it has
    # learned the server's bucket size. Two processes pacing alone would each send 4 a second (8
    # together): 429s. Sharing one budget, they send 4 together.
    sim = await make_sim(rpm=240, burst=2.0)
    started = [await _start_worker(sim, redis_server.url, 20) for _ in range(2)]
    workers = [proc for proc, _ in started]
    # (Whether the second sees the first at start-up depends on its heartbeat surviving a slow start
    # under load — CI under stress-ng saw 1; what matters is asserted below, on the simulator's log.)
    for proc in workers:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    results = [await _finish(proc) for proc in workers]
    assert [r["done"] for r in results] == [20, 20]
    log = sim.request_log
    assert 429 not in sim.stats.status_counts, sim.stats.status_counts
    times = [r.received_at for r in log]
    # any 5 s window: at most one bucket (2 s: 8) + 5 s of refill (20), +1 for the probe each process sends
    assert _most_in_window(times, 5.0) <= 8 + 20 + 2
    assert all(r["mode"] == "redis" for r in results), results


async def _paced_pool(sim: Any, url: str, limit: int = 4) -> tuple[RequestPool, Budget]:
    store = await open_redis_store(url, "sk-ant-secret-key")
    budget = Budget(store, burst_seconds=1.0, slow_start=False)
    pool = RequestPool(api_key="sk-ant-secret-key", base_url=sim.base_url, limit=limit, budget=budget,
                       policy=RetryPolicy(max_attempts=5, base=0.05, cap=0.2), stall_timeout=10.0)
    return pool, budget


async def test_redis_killed_mid_run_falls_back_to_local_and_loses_nothing(make_sim, redis_server) -> None:
    sim = await make_sim(rpm=1200)
    pool, budget = await _paced_pool(sim, redis_server.url)
    assert budget.snapshot().mode == "redis"
    done: list[JobEvent] = []
    killed = asyncio.Event()

    def on_event(event: JobEvent) -> None:
        if isinstance(event, Done):
            done.append(event)
            if len(done) == 10:
                killed.set()

    pool.add_listener(on_event)
    handles = [pool.submit(Job.from_prompt(f"p{i}", max_tokens=20), stream_events=False) for i in range(40)]
    await asyncio.wait_for(killed.wait(), 60)
    redis_server.kill()
    outcomes = [await asyncio.wait_for(h.result(), 60) for h in handles]
    snap = budget.snapshot()
    await pool.aclose()
    await budget.aclose()
    assert all(isinstance(o, Done) for o in outcomes)
    assert snap.mode == "local-fallback" and snap.mode_text == "limiter: local — Redis unreachable"


async def test_unreachable_redis_from_the_start_paces_locally(make_sim, redis_server) -> None:
    sim = await make_sim(rpm=600)
    redis_server.kill()
    pool, budget = await _paced_pool(sim, redis_server.url)
    outcomes = [await h.result() for h in [pool.submit(Job.from_prompt(f"p{i}", max_tokens=20)) for i in range(5)]]
    snap = budget.snapshot()
    await pool.aclose()
    await budget.aclose()
    assert all(isinstance(o, Done) for o in outcomes)
    assert snap.mode == "local-fallback"


async def test_the_api_key_is_never_written_to_redis(make_sim, redis_server) -> None:
    import redis.asyncio as aioredis

    sim = await make_sim(rpm=600, otpm=100_000)
    pool, budget = await _paced_pool(sim, redis_server.url)
    for h in [pool.submit(Job.from_prompt(f"p{i}", max_tokens=20)) for i in range(4)]:
        assert isinstance(await h.result(), Done)
    client = aioredis.from_url(redis_server.url, decode_responses=True)
    dump = []
    for key in await client.keys("*"):
        dump.append(key)
        kind = await client.type(key)
        dump.extend(map(str, (await client.hgetall(key)).items() if kind == "hash" else await client.zrange(key, 0, -1)))
    assert any(key_id("sk-ant-secret-key") in k for k in dump)
    assert any(":budget:sonnet" in k for k in dump)
    assert not any("sk-ant-secret-key" in item for item in dump)
    await client.aclose()
    await pool.aclose()
    await budget.aclose()


async def test_the_budget_reconnects_when_redis_comes_back(make_sim, redis_server) -> None:
    sim = await make_sim(rpm=1200)
    pool, budget = await _paced_pool(sim, redis_server.url)
    redis_server.kill()
    assert isinstance(await pool.submit(Job.from_prompt("while gone", max_tokens=20)).result(), Done)
    assert budget.snapshot().mode == "local-fallback"
    redis_server.start()

    async def back() -> None:
        while budget.snapshot().mode != "redis":
            await asyncio.sleep(0.05)  # polling a condition the background task sets, bounded below

    await asyncio.wait_for(back(), 30)
    assert isinstance(await pool.submit(Job.from_prompt("shared again", max_tokens=20)).result(), Done)
    await pool.aclose()
    await budget.aclose()


async def test_a_peer_whose_loop_is_busy_past_the_heartbeat_ttl_is_still_counted(redis_server) -> None:
    """The heartbeat runs in its own thread: a process that sends nothing and whose event loop is held
    (a slow start under load) for longer than the peers' TTL stays in the count."""
    import redis.asyncio as aioredis

    from claude_tui.engine.budget_redis import PEER_TTL_SECONDS

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("blocked_peer.py")), redis_server.url,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
    )
    assert proc.stdout is not None and proc.stdin is not None
    info = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
    assert info["mode"] == "redis"
    client = aioredis.from_url(redis_server.url, decode_responses=True)
    try:
        joined = await client.zscore(info["key"], info["member"])
        assert joined is not None

        async def refreshed_past_the_ttl() -> float:
            # a condition, not a clock: the member's own heartbeat stamp moves past the TTL horizon
            changed = asyncio.Event()
            while True:
                score = await client.zscore(info["key"], info["member"])
                assert score is not None, "the blocked peer dropped out of the peer set"
                if score >= joined + PEER_TTL_SECONDS * 1000:
                    return score
                try:
                    await asyncio.wait_for(changed.wait(), 0.2)
                except TimeoutError:
                    pass

        await asyncio.wait_for(refreshed_past_the_ttl(), 60)
        store = await open_redis_store(redis_server.url, "test-key")  # a second process joining now
        try:
            assert store.peers == 2
        finally:
            await store.aclose()
    finally:
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        await asyncio.wait_for(proc.wait(), 30)
        await client.aclose()


async def test_every_process_probe_is_in_the_shared_bucket_before_anyone_draws_on_it(redis_server) -> None:
    # Two processes start together: each sends one probe before the limits are known. The server
    # admitted both (remaining 8 of a 10-request bucket). When the first learns the limits and draws,
    # the shared bucket must already hold the *other* process's probe too — before, each charged only its
    # own, after its own headers, so the first drew on a request the server no longer had (a 429).
    from claude_tui.engine.budget import model_class
    from claude_tui.engine.events import RateLimits
    from claude_tui.engine.ratelimits import parse_rate_limits

    stores = [await open_redis_store(redis_server.url, "shared-probe-key") for _ in range(2)]
    first, second = (Budget(store) for store in stores)
    events: list[JobEvent] = []
    headers = {"anthropic-ratelimit-requests-limit": "60", "anthropic-ratelimit-requests-remaining": "8"}
    probe_a, probe_b, next_a = (Job.from_prompt(p, max_tokens=10) for p in ("a", "b", "a2"))
    try:
        async with second.attempt(probe_b, events.append):
            async with first.attempt(probe_a, events.append) as watch:
                watch(RateLimits(job_id=probe_a.id, at=0.0, snapshot=parse_rate_limits(headers)))
                await asyncio.gather(*first._tasks)  # the probe's observation is in the store
                async with first.attempt(next_a, events.append):
                    level = stores[0].levels(model_class("claude-sonnet-4-6"))[0]
                    # 9 s of refill at 60 RPM = 9, less both probes, less this attempt (a little refill aside)
                    assert level is not None and level < 6.5, level
    finally:
        for budget in (first, second):
            await budget.aclose()
