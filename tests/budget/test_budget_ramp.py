"""Ramping: an idle key goes at the learned rate at once; a 429 ``ramp_limit_exceeded`` slows the ramp.

The API caps how fast usage may grow and says so with a 429 whose ``error.details.error_code`` is
``ramp_limit_exceeded``. The budget no longer ramps a cold key pre-emptively (it cost 27–42 % of the
limit on 3-minute runs); it halves the rate in force when the API asks for it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import pytest
from aiohttp import web
from budget_events import Recorder
from scripted_http import BLOCK, BLOCK_STOP, DELTA, MESSAGE_DELTA, START, STOP, Scripted, sse, stream

from claude_tui.engine.budget import Budget, model_class
from claude_tui.engine.events import AttemptFailed, Done, Started, Throttled
from claude_tui.engine.job import Job

pytestmark = pytest.mark.timeout(120)

CLASS = model_class("claude-sonnet-4-6")


async def _scripted(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Scripted:
    server = Scripted(handler)
    await server.start()
    return server


async def test_an_idle_key_learned_from_headers_goes_at_the_full_rate_at_once(make_sim, make_pool) -> None:
    # 60 RPM behind a 10 s bucket: the key is idle, so 10 requests may go at once. Replies are held
    # (nothing finishes), so whatever the budget sends it sends on the learned limits alone.
    sim = await make_sim(rpm=60, burst=10.0)
    sim.hold_replies(after_tokens=1)
    budget = Budget()  # the defaults
    pool = make_pool(sim.base_url, limit=12, budget=budget)
    rec = Recorder(pool)
    handles = [pool.submit(Job.from_prompt(f"p{i}", max_tokens=10)) for i in range(12)]
    await rec.until(lambda: len(rec.of(Started)) >= 10, timeout=90)
    state = budget.snapshot().classes[CLASS]
    requests = state.dimensions["requests"]
    assert state.slow_start == 1.0
    assert (requests.learned, requests.limit, requests.capacity) == (60, 60, 10.0)
    # no wait longer than the limit's own one request a second (a ramp at ¼ would wait 4 s each)
    assert all(event.delay <= 1.05 for event in rec.of(Throttled)), [round(e.delay, 2) for e in rec.of(Throttled)]
    sim.release_replies()
    assert all(isinstance(outcome, Done) for outcome in await asyncio.gather(*(h.result() for h in handles)))
    assert 429 not in sim.stats.status_counts


async def test_slow_start_on_still_ramps_a_cold_key_from_a_quarter(make_sim, make_pool) -> None:
    sim = await make_sim(rpm=600)
    budget = Budget(slow_start=True)
    pool = make_pool(sim.base_url, limit=1, budget=budget)
    await pool.submit(Job.from_prompt("x", max_tokens=10)).result()
    state = budget.snapshot().classes[CLASS]
    assert state.slow_start == 0.25 and state.dimensions["requests"].limit == 150


LIMIT_HEADERS = {"anthropic-ratelimit-requests-limit": "600", "anthropic-ratelimit-requests-remaining": "99",
                 "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:00Z"}


def _ramp_limited() -> web.Response:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "usage is growing too fast",
                                       "details": {"error_code": "ramp_limit_exceeded"}}}
    return web.json_response(body, status=429, headers={"retry-after": "1", **LIMIT_HEADERS})


def _ordinary_429() -> web.Response:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "rate limited"}}
    return web.json_response(body, status=429, headers={"retry-after": "1", **LIMIT_HEADERS})


def _second_answer(refusal: Callable[[], web.Response]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A server that streams a reply (with LIMIT_HEADERS) to every request but the second, which it refuses."""
    answers = iter(["reply", "refuse"])

    async def handler(request: web.Request) -> web.StreamResponse:
        if next(answers, "reply") == "refuse":
            return refusal()
        response = stream(sse(START, BLOCK, DELTA, BLOCK_STOP, MESSAGE_DELTA, STOP))
        response.headers.update(LIMIT_HEADERS)
        return response

    return handler


async def test_a_ramp_limit_429_halves_the_rate_in_force_and_holds_the_class(make_pool) -> None:
    server = await _scripted(_second_answer(_ramp_limited))
    budget = Budget(ramp_seconds=3600)
    pool = make_pool(server.base_url, limit=1, budget=budget)
    events: list[Any] = []
    pool.add_listener(events.append)
    try:
        first = await pool.submit(Job.from_prompt("a", max_tokens=10)).result()
        assert isinstance(first, Done)
        assert budget.snapshot().classes[CLASS].slow_start == 1.0  # learned, idle: the full rate
        second = await pool.submit(Job.from_prompt("b", max_tokens=10)).result()
        assert isinstance(second, Done) and second.attempts == 2
    finally:
        await server.stop()
    state = budget.snapshot().classes[CLASS]
    assert state.slow_start == 0.5 and state.ramp_downs == 1
    assert state.dimensions["requests"].limit == 300  # half of the learned 600 until a clean interval
    assert [e.kind for e in events if isinstance(e, AttemptFailed)] == ["rate_limit"]


async def test_an_ordinary_429_does_not_slow_the_ramp(make_pool) -> None:
    server = await _scripted(_second_answer(_ordinary_429))
    budget = Budget(ramp_seconds=3600)
    pool = make_pool(server.base_url, limit=1, budget=budget)
    try:
        for prompt in ("a", "b"):
            assert isinstance(await pool.submit(Job.from_prompt(prompt, max_tokens=10)).result(), Done)
    finally:
        await server.stop()
    state = budget.snapshot().classes[CLASS]
    assert state.slow_start == 1.0 and state.ramp_downs == 0


async def test_the_probe_is_charged_before_anyone_draws_on_the_learned_limits() -> None:
    # 3,000 OTPM behind a 10 s bucket holds 500 tokens: the probe reserved 256 of them, so the next
    # 256-token reservation must wait for refill. Before the fix, a waiter that asked the store between
    # the probe's headers (limits learned) and the probe's charge (a task) found a full bucket and went
    # at once into a server with 244 left: a 429 (seen in the bench's 60 RPM + 3,000 OTPM case).
    from claude_tui.engine.events import RateLimits
    from claude_tui.engine.ratelimits import parse_rate_limits

    budget = Budget()
    events: list[Any] = []
    headers = {"anthropic-ratelimit-requests-limit": "60", "anthropic-ratelimit-requests-remaining": "9",
               "anthropic-ratelimit-output-tokens-limit": "3000", "anthropic-ratelimit-output-tokens-remaining": "0"}
    probe = Job.from_prompt("probe", max_tokens=256)
    second = Job.from_prompt("second", max_tokens=256)
    async with budget.attempt(probe, events.append) as watch:
        watch(RateLimits(job_id=probe.id, at=0.0, snapshot=parse_rate_limits(headers)))
        # the same loop turn: the probe's charge has not run yet
        async with budget.attempt(second, events.append):
            pass
    waits = [e for e in events if isinstance(e, Throttled) and e.job_id == second.id]
    assert waits and waits[-1].dimension == "output_tokens", events
    await budget.aclose()
