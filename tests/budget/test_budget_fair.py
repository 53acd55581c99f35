"""The budget's loose ends: FIFO among waiters, buckets sized like the server's, rounded `remaining`."""

from __future__ import annotations

import asyncio

import pytest

from claude_tui.engine.budget import Budget
from claude_tui.engine.events import AttemptFailed, Done, JobEvent, Started, Throttled
from claude_tui.engine.job import Job
from claude_tui.engine.pool import RequestPool

pytestmark = pytest.mark.timeout(90)




def _events(pool: RequestPool) -> list[JobEvent]:
    events: list[JobEvent] = []
    pool.add_listener(events.append)
    return events


async def test_waiters_are_admitted_in_fifo_order_so_a_big_job_is_not_starved(make_sim, make_pool) -> None:
    # 6,000 OTPM in a bucket of 1 s: 100 tokens, refilled at 100 a second. The first job empties it;
    # the big one (100 = a full bucket) queues next, then five small ones (10 each). Without FIFO
    # every small one fits the bucket as it refills and goes first, the big one last.
    sim = await make_sim()
    budget = Budget(limits={"output_tokens": 6000}, token_burst_seconds=1.0, learn_burst=False, slow_start=False)
    pool = make_pool(sim, limit=8, budget=budget)
    events = _events(pool)
    first = pool.submit(Job.from_prompt("first", max_tokens=100))
    big = pool.submit(Job.from_prompt("big", max_tokens=100))
    small = [pool.submit(Job.from_prompt(f"small {i}", max_tokens=10)) for i in range(5)]
    outcomes = await asyncio.gather(*(h.result() for h in [first, big, *small]))
    assert all(isinstance(o, Done) for o in outcomes)
    sent = [e.job_id for e in events if isinstance(e, Started)]
    assert sent.index(big.id) < min(sent.index(h.id) for h in small), sent
    # the small ones waited on the budget too, and said so (the tab counts down on Throttled)
    assert all(any(isinstance(e, Throttled) and e.job_id == h.id for e in events) for h in small)


async def test_buckets_take_the_servers_size_so_reservations_run_side_by_side(make_sim, make_pool) -> None:
    # The server: 60 RPM + 3,000 OTPM in buckets of 10 s (500 output tokens). Replies take ~1 s and
    # reserve max_tokens 256: the server admits a second one ~0.25 s after the first. A budget with
    # 1-s buckets (50 tokens) or one that clamps to the rounded `remaining` (0 for any level under
    # 500) runs them one at a time; one sized like the server's runs two at once, with no 429.
    sim = await make_sim(rpm=60, otpm=3000, burst=10.0, tps=20, reply_tokens=20)
    budget = Budget(burst_seconds=1.0, slow_start=False)
    pool = make_pool(sim, limit=4, budget=budget)
    handles = [pool.submit(Job.from_prompt(f"p{i}", max_tokens=256)) for i in range(4)]
    outcomes = await asyncio.gather(*(h.result() for h in handles))
    assert all(isinstance(o, Done) for o in outcomes)
    assert 429 not in sim.stats.status_counts, sim.stats.status_counts
    assert sim.stats.peak_in_flight >= 2
    state = budget.snapshot().classes["sonnet-4"]
    assert state.burst_seconds == pytest.approx(10.0)  # (9 remaining + 1) × 60 / 60 RPM


async def test_the_snapshot_reads_pressure_waits_and_reply_lengths(make_sim, make_pool) -> None:
    sim = await make_sim(rpm=60, otpm=3000, burst=10.0, reply_tokens=20)
    budget = Budget(slow_start=False)
    pool = make_pool(sim, limit=4, budget=budget)
    await asyncio.gather(*(pool.submit(Job.from_prompt(f"p{i}", max_tokens=400)).result() for i in range(5)))
    snap = budget.snapshot()
    state = snap.classes["sonnet-4"]
    assert state.replies == 5 and state.mean_output == 20 and state.mean_max_tokens == 400
    # 400 of a 500-token bucket per reservation: output tokens bound, and attempts waited on them
    assert state.run_binding == "output_tokens"
    out, req = state.dimensions["output_tokens"], state.dimensions["requests"]
    assert out.pressure > req.pressure and out.waited > 0
    assert (out.limit, out.learned, req.limit) == (3000, 3000, 60)
    assert snap.mode_text == "limiter: local" and snap.cap <= snap.user_limit == 4


async def test_the_aimd_cap_grows_back_from_one(make_sim, make_pool) -> None:
    # Four 429s trim the cap 5 → 4 → 3 → 2 → 1. Netflix's rule grows it when a completion finds
    # in-flight ≥ half the cap, counting itself: at cap 1 the one completing attempt is in flight.
    # Counted after it left, the cap stayed at 1 for good and a paced run fell to 1 / latency
    # (86 % of 60 RPM in the bench).
    sim = await make_sim()
    budget = Budget(limits={"requests": 60_000}, slow_start=False)
    pool = make_pool(sim, limit=5, budget=budget)
    caps: list[int] = []
    pool.add_listener(lambda ev: caps.append(budget.snapshot().cap) if isinstance(ev, AttemptFailed) else None)
    sim.inject("rate_limit", count=4, retry_after=1)
    assert isinstance(await pool.submit(Job.from_prompt("hit four times", max_tokens=10)).result(), Done)
    assert caps == [4, 3, 2, 1]
    after = [pool.submit(Job.from_prompt(f"after {i}", max_tokens=10)) for i in range(20)]
    assert all(isinstance(o, Done) for o in await asyncio.gather(*(h.result() for h in after)))
    assert budget.snapshot().cap >= 4
