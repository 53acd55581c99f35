"""The budget in one process: acquire/settle/refund, learned limits, clamps, holds, debt, pacing."""

from __future__ import annotations

import asyncio

import pytest
from budget_events import Recorder

from claude_tui.engine.budget import Budget, model_class
from claude_tui.engine.events import AttemptFailed, Done, FirstToken, Throttled
from claude_tui.engine.job import Job

pytestmark = pytest.mark.timeout(90)






def test_model_class_from_the_model_table_else_by_family() -> None:
    assert model_class("claude-sonnet-4-6") == "sonnet-4"  # the table's rate class
    assert model_class("claude-haiku-4-5-20251001") == model_class("claude-haiku-4-5") == "haiku-4"
    assert model_class("claude-opus-4-1") == "opus"  # not in the table: its family
    assert model_class("claude-3-5-haiku-latest") == "haiku"
    assert model_class("other-model") == "other-model"


async def test_cancel_refunds_the_reserved_output_tokens(make_sim, make_pool) -> None:
    # 600 OTPM and 1 s of burst: a 1000-token reservation leaves the bucket ~970 in debt, which
    # would hold the next attempt back ~97 s — unless the cancelled attempt refunds it.
    sim = await make_sim(tps=5, reply_tokens=200)
    budget = Budget(limits={"output_tokens": 600}, token_burst_seconds=1.0, slow_start=False)
    pool = make_pool(sim, limit=2, budget=budget)
    rec = Recorder(pool)
    first = pool.submit(Job.from_prompt("slow", max_tokens=1000))
    await rec.until(lambda: bool(rec.of(FirstToken, first.id)))
    second = pool.submit(Job.from_prompt("next", max_tokens=10))
    await rec.until(lambda: bool(rec.of(Throttled, second.id)))
    assert rec.of(Throttled, second.id)[0].dimension == "output_tokens"
    assert rec.of(Throttled, second.id)[0].delay > 60
    first.cancel()
    outcome = await asyncio.wait_for(second.result(), 20)  # well before the 97 s the debt would take
    assert isinstance(outcome, Done)
    level = budget.snapshot().classes["sonnet-4"].dimensions["output_tokens"].level
    assert level is not None and level > -50  # both settled: nothing stays reserved


async def test_reply_refunds_max_tokens_minus_output(make_sim, make_pool) -> None:
    sim = await make_sim(reply_tokens=20)
    budget = Budget(limits={"output_tokens": 6000}, token_burst_seconds=1.0, slow_start=False)  # capacity 100
    pool = make_pool(sim, limit=1, budget=budget)
    done = await pool.submit(Job.from_prompt("hi", max_tokens=90)).result()
    assert isinstance(done, Done) and done.usage.output_tokens == 20
    level = budget.snapshot().classes["sonnet-4"].dimensions["output_tokens"].level
    # 100 − 90 reserved + 70 refunded (+ refill): the 20 used are all that is gone
    assert level is not None and level >= 80


async def test_limits_are_learned_from_the_first_response(make_sim, make_pool) -> None:
    sim = await make_sim(rpm=120, otpm=9000, itpm=50_000)
    budget = Budget(slow_start=False)
    pool = make_pool(sim, limit=3, budget=budget)
    handles = [pool.submit(Job.from_prompt(f"p{i}", max_tokens=50)) for i in range(3)]
    for handle in handles:
        assert isinstance(await handle.result(), Done)
    dims = budget.snapshot().classes["sonnet-4"].dimensions
    assert (dims["requests"].learned, dims["input_tokens"].learned, dims["output_tokens"].learned) == (120, 50_000, 9000)
    # the first attempt probed alone: the others were sent only after it had taught the limits
    log = sim.request_log
    assert log[1].received_at > log[0].received_at


async def test_remaining_clamps_the_bucket(make_sim, make_pool) -> None:
    # Another client on the key (a pool without a budget) has spent 58 of the server's 60 requests.
    sim = await make_sim(rpm=60, burst=60.0)
    other = make_pool(sim, limit=10)
    await asyncio.gather(*(other.submit(Job.from_prompt(f"o{i}", max_tokens=10)).result() for i in range(58)))
    budget = Budget(burst_seconds=3.0, slow_start=False)  # our own bucket starts full: 3 requests
    pool = make_pool(sim, limit=4, budget=budget)
    rec = Recorder(pool)
    handles = [pool.submit(Job.from_prompt(f"p{i}", max_tokens=10)) for i in range(4)]
    for handle in handles:
        assert isinstance(await handle.result(), Done)
    # Without the clamp the budget would have sent 3 at once into a server with 1 left: 429s.
    assert not rec.of(AttemptFailed)
    assert 429 not in sim.stats.status_counts
    assert rec.of(Throttled)


async def test_a_429_holds_every_job_of_that_model_class(make_sim, make_pool) -> None:
    sim = await make_sim()
    budget = Budget(limits={"requests": 6000}, slow_start=False)
    pool = make_pool(sim, limit=8, budget=budget)
    rec = Recorder(pool)
    sim.inject("rate_limit", retry_after=2)
    first = pool.submit(Job.from_prompt("first", max_tokens=10))
    await rec.until(lambda: bool(rec.of(AttemptFailed, first.id)))
    failed_at = sim.request_log[0].finished_at
    others = [pool.submit(Job.from_prompt(f"o{i}", max_tokens=10)) for i in range(4)]
    haiku = pool.submit(Job.from_prompt("other class", model="claude-haiku-4-5", max_tokens=10))
    for handle in [first, *others, haiku]:
        assert isinstance(await handle.result(), Done)
    for handle in others:
        held = rec.of(Throttled, handle.id)
        assert held and held[0].dimension == "retry_after" and held[0].model_class == "sonnet-4"
    assert not rec.of(Throttled, haiku.id)
    sonnet_times = [r.received_at for r in sim.request_log[1:] if r.model and "sonnet" in r.model]
    assert failed_at is not None and min(sonnet_times) >= failed_at + 1.9
    haiku_time = next(r.received_at for r in sim.request_log if r.model and "haiku" in r.model)
    assert haiku_time < failed_at + 1.9  # another model class is not held


async def test_a_cost_above_capacity_is_admitted_once_and_leaves_debt(make_sim, make_pool) -> None:
    sim = await make_sim(tps=20, reply_tokens=40)
    budget = Budget(limits={"output_tokens": 1200}, token_burst_seconds=1.0, slow_start=False)  # capacity 20
    pool = make_pool(sim, limit=2, budget=budget)
    rec = Recorder(pool)
    levels: list[float] = []
    pool.add_listener(lambda ev: levels.append(budget.snapshot().classes["sonnet-4"].dimensions["output_tokens"].level or 0.0)
                      if isinstance(ev, FirstToken) else None)
    big = pool.submit(Job.from_prompt("big", max_tokens=500))
    small = pool.submit(Job.from_prompt("small", max_tokens=10))
    assert isinstance(await big.result(), Done) and isinstance(await small.result(), Done)
    assert not rec.of(Throttled, big.id)  # admitted at once: the bucket was full
    assert levels[0] < -400  # and left in debt while it ran
    assert rec.of(Throttled, small.id)[0].dimension == "output_tokens"


async def test_paced_run_under_the_limits_draws_almost_no_429s(make_sim, make_pool) -> None:
    # The simulator enforces its limits per 2 s; the budget paces at 1 s of burst.
    sim = await make_sim(rpm=240, otpm=6000, burst=2.0, reply_tokens=20)
    budget = Budget(burst_seconds=1.0, slow_start=False)
    pool = make_pool(sim, limit=10, budget=budget)
    handles = [pool.submit(Job.from_prompt(f"p{i}", max_tokens=60)) for i in range(40)]
    outcomes = [await h.result() for h in handles]
    assert all(isinstance(o, Done) for o in outcomes)
    attempts = sim.stats.requests_total
    assert sim.stats.status_counts.get(429, 0) <= 1, sim.stats.status_counts
    assert attempts <= 41


async def test_without_a_budget_the_same_run_draws_429s(make_sim, make_pool) -> None:
    """The comparison that makes the test above mean something: today's reactive engine."""
    sim = await make_sim(rpm=240, otpm=6000, burst=2.0, reply_tokens=20)
    pool = make_pool(sim, limit=10)
    handles = [pool.submit(Job.from_prompt(f"p{i}", max_tokens=60)) for i in range(40)]
    outcomes = [await h.result() for h in handles]
    assert all(isinstance(o, Done) for o in outcomes)
    assert sim.stats.status_counts.get(429, 0) > 5


async def test_a_server_without_limit_headers_is_not_paced(make_sim, make_pool) -> None:
    sim = await make_sim()  # unlimited: the simulator sends no anthropic-ratelimit-* headers
    budget = Budget()
    pool = make_pool(sim, limit=4, budget=budget)
    rec = Recorder(pool)
    handles = [pool.submit(Job.from_prompt(f"p{i}", max_tokens=20)) for i in range(8)]
    assert all(isinstance(o, Done) for o in await asyncio.gather(*(h.result() for h in handles)))
    # only the jobs that queued behind the first probe waited; after it, nothing is paced
    late = [pool.submit(Job.from_prompt(f"late{i}", max_tokens=20)) for i in range(4)]
    await asyncio.gather(*(h.result() for h in late))
    assert not any(rec.of(Throttled, h.id) for h in late)
    assert sim.stats.peak_in_flight >= 2
