"""Token buckets: honest retry-after, continuous refill, OTPM reserved up front and settled."""

from __future__ import annotations

import asyncio
import math

import anthropic
import pytest
from sim_helpers import HELLO, MODEL, client_for

from claude_tui.simulator import SimulatorConfig
from claude_tui.simulator.ratelimit import RateLimiter, TokenBucket, itpm_cost


async def _ok(c: anthropic.AsyncAnthropic, **kw: object) -> None:
    await c.messages.create(model=kw.pop("model", MODEL), max_tokens=kw.pop("max_tokens", 100),  # type: ignore[arg-type]
                            messages=HELLO, **kw)  # type: ignore[arg-type]


async def test_rpm_two_third_request_is_429(make_sim) -> None:
    sim = await make_sim(rpm=2, burst=60)
    async with client_for(sim) as c:
        await _ok(c)
        await _ok(c)
        with pytest.raises(anthropic.RateLimitError) as info:
            await _ok(c)
    retry_after = int(info.value.response.headers["retry-after"])
    assert 1 <= retry_after <= 30  # 2 per minute refills one request every 30 s
    assert info.value.type == "rate_limit_error"
    assert info.value.response.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert "2 requests per minute" in info.value.message


async def test_retry_after_is_honest(make_sim) -> None:
    sim = await make_sim(rpm=60, burst=2)  # a bucket of 2, refilled one per second
    async with client_for(sim) as c:
        await _ok(c)
        await _ok(c)
        with pytest.raises(anthropic.RateLimitError) as info:
            await _ok(c)
        retry_after = int(info.value.response.headers["retry-after"])
        assert retry_after == 1
        await asyncio.sleep(retry_after)
        await _ok(c)  # retrying at the moment it said succeeds
    log = sim.request_log
    assert [r.status for r in log] == [200, 200, 429, 200]
    assert log[2].retry_after == 1
    assert log[3].received_at - log[2].finished_at >= retry_after
    assert all(r.retry_count == 0 for r in log)


async def test_otpm_reserves_max_tokens_then_settles(make_sim) -> None:
    sim = await make_sim(otpm=1000, tps=150, reply_tokens=30, burst=60)
    async with client_for(sim) as c:
        first = asyncio.create_task(_ok(c, max_tokens=800))
        while sim.stats.in_flight == 0:
            await asyncio.sleep(0.01)
        with pytest.raises(anthropic.RateLimitError) as info:  # 800 of 1000 are reserved
            await _ok(c, max_tokens=800)
        assert "output tokens per minute" in info.value.message
        await first
        await _ok(c, max_tokens=800)  # the unused 770 came back at the end of the first reply


async def test_oversized_request_waits_for_a_full_bucket(make_sim) -> None:
    sim = await make_sim(itpm=60, burst=60)
    big = [{"role": "user", "content": "word " * 200}]  # ~250 tokens > the whole bucket
    async with client_for(sim) as c:
        await c.messages.create(model=MODEL, max_tokens=10, messages=big)  # admitted: the bucket was full
        with pytest.raises(anthropic.RateLimitError) as info:
            await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert int(info.value.response.headers["retry-after"]) > 60  # in debt: more than a minute of refill


async def test_unlimited_means_no_429_and_no_headers(make_sim) -> None:
    sim = await make_sim(rpm=0, itpm=None, otpm=0)
    async with client_for(sim) as c:
        await asyncio.gather(*(_ok(c) for _ in range(20)))
        response = await c.messages.with_raw_response.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert not [h for h in response.headers if h.startswith("anthropic-ratelimit-")]
    assert sim.stats.status_counts == {200: 21}


def test_bucket_refills_continuously() -> None:
    now = [0.0]
    bucket = TokenBucket(60, 60, lambda: now[0])  # 60/min, capacity 60
    bucket.take(60)
    assert bucket.wait_for(1) == pytest.approx(1.0)
    now[0] = 0.5
    assert bucket.level() == pytest.approx(0.5)
    now[0] = 30
    assert bucket.level() == pytest.approx(30)
    now[0] = 1000
    assert bucket.level() == 60  # never above capacity


def test_limiter_reports_the_tightest_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(rpm=10, itpm=1000, otpm=100, burst=60, clock=lambda: now[0])
    first = limiter.admit("sonnet-4", 10, 100)
    assert first.ok and first.output_reserved == 100
    second = limiter.admit("sonnet-4", 10, 50)
    assert not second.ok and second.limited_by == "output-tokens"
    assert math.ceil(second.retry_after) == 30  # 50 tokens at 100/60 per second
    limiter.settle_output(first, 20)
    assert limiter.admit("sonnet-4", 10, 50).ok
    headers = limiter.headers("sonnet-4")
    assert headers["anthropic-ratelimit-requests-remaining"] == "8"
    assert headers["anthropic-ratelimit-tokens-limit"] == "100"  # output is the tighter one


async def test_each_model_class_has_its_own_buckets(make_sim) -> None:
    sim = await make_sim(rpm=60, burst=2)
    async with client_for(sim) as c:
        await _ok(c, model="claude-sonnet-4-6")
        await _ok(c, model="claude-sonnet-4-6")
        with pytest.raises(anthropic.RateLimitError):
            await _ok(c, model="claude-sonnet-4-6")
        with pytest.raises(anthropic.RateLimitError):  # the same class (Sonnet 4.x) shares the buckets
            await _ok(c, model="claude-sonnet-4-5")
        response = await c.messages.with_raw_response.create(model="claude-haiku-4-5", max_tokens=10, messages=HELLO)
    assert response.headers["anthropic-ratelimit-requests-remaining"] == "1"  # Haiku untouched


async def test_default_bucket_is_seconds_not_a_minute(make_sim) -> None:
    assert SimulatorConfig().burst <= 10
    sim = await make_sim(rpm=60, burst=SimulatorConfig().burst)
    async with client_for(sim) as c:
        results = await asyncio.gather(*(_ok(c) for _ in range(30)), return_exceptions=True)
    admitted = sum(1 for r in results if not isinstance(r, BaseException))
    assert admitted <= SimulatorConfig().burst + 2  # not the 30 a minute-sized bucket let through at once
    assert all(isinstance(r, anthropic.RateLimitError) for r in results if isinstance(r, BaseException))


async def test_token_remaining_is_rounded_to_thousands(make_sim) -> None:
    sim = await make_sim(otpm=20_000, itpm=100_000, burst=60)
    async with client_for(sim) as c:
        response = await c.messages.with_raw_response.create(model=MODEL, max_tokens=1234, messages=HELLO)
        counted = await c.messages.with_raw_response.count_tokens(model=MODEL, messages=HELLO)
    assert response.headers["anthropic-ratelimit-output-tokens-remaining"] == "19000"  # 18,766 left
    assert response.headers["anthropic-ratelimit-input-tokens-remaining"] == "100000"
    assert counted.headers["anthropic-ratelimit-output-tokens-limit"] == "20000"  # count_tokens has them too
    assert counted.headers["request-id"].startswith("req_")


async def test_retry_after_counts_refunds_due_soon(make_sim) -> None:
    # OTPM 600 (10 tokens/s, a full minute's bucket): the first reply reserves all 600 but will use 30
    sim = await make_sim(otpm=600, burst=60, ttft_ms=0, tps=20, reply_tokens=30)
    async with client_for(sim) as c:
        first = asyncio.create_task(_ok(c, max_tokens=600))
        while sim.stats.in_flight == 0:
            await asyncio.sleep(0.01)
        with pytest.raises(anthropic.RateLimitError) as info:
            await _ok(c, max_tokens=600)
        retry_after = int(info.value.response.headers["retry-after"])
        assert retry_after <= 5  # refill alone would say 60 s; the first reply gives back 570 in ~1.5 s
        await first
        await asyncio.sleep(retry_after)
        await _ok(c, max_tokens=600)  # and it was honest: room is there at that moment


def test_itpm_counts_cache_writes_not_reads() -> None:
    assert itpm_cost(100, 50) == 150
    now = [0.0]
    limiter = RateLimiter(rpm=None, itpm=120, otpm=None, burst=60, clock=lambda: now[0])
    assert limiter.admit("haiku-4", itpm_cost(60, 60), 10).ok
    assert not limiter.admit("haiku-4", itpm_cost(1, 0), 10).ok
