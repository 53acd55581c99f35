"""The engine's Usage carries the cache writes split by TTL, and cost charges each at its price.

Against the simulator with the real SDK: a first request with a 1-hour breakpoint writes the cache
(``usage.cache_creation.ephemeral_1h_input_tokens``); the job's Done usage shows it and the cost
charges it at 2x input (pricing page), not the 5-minute 1.25x.
"""

from __future__ import annotations

from typing import Any

import pytest

from claude_tui.engine.events import Done, Usage
from claude_tui.engine.job import Job
from claude_tui.engine.metrics import Metrics
from claude_tui.engine.pricing import PriceTable

MODEL = "claude-sonnet-4-6"
BIG = "Reference material about token buckets and retry policies. " * 600  # ~9,000 tokens, over 1,024


def _cached(ttl: str, question: str) -> Job:
    """A job whose long first block is a cache breakpoint with ``ttl``."""
    content: list[dict[str, Any]] = [
        {"type": "text", "text": BIG, "cache_control": {"type": "ephemeral", "ttl": ttl}},
        {"type": "text", "text": question},
    ]
    return Job(messages=({"role": "user", "content": content},), model=MODEL, max_tokens=64)


async def test_a_1h_cache_write_is_in_done_usage_and_charged_at_twice_the_input_price(make_sim, make_pool) -> None:
    sim = await make_sim(itpm=None)
    pool = make_pool(sim)
    metrics = Metrics()
    pool.add_listener(metrics.observe)
    first = await pool.submit(_cached("1h", "What is a bucket?")).result()
    assert isinstance(first, Done)
    usage = first.usage
    assert usage.cache_creation_input_tokens > 5000 and usage.cache_read_input_tokens == 0
    assert usage.ephemeral_1h_input_tokens == usage.cache_creation_input_tokens
    assert usage.ephemeral_5m_input_tokens == 0
    assert usage.as_dict()["ephemeral_1h_input_tokens"] == usage.cache_creation_input_tokens

    price = PriceTable().price(MODEL)
    assert price is not None
    expected = (usage.input_tokens * price.input + usage.output_tokens * price.output
                + usage.cache_creation_input_tokens * price.input * 2) / 1_000_000
    assert first.cost == pytest.approx(expected)
    assert metrics.snapshot().cost == pytest.approx(expected)
    # priced as a 5-minute write it would have been cheaper: the split matters
    as_5m = Usage(usage.input_tokens, usage.output_tokens, usage.cache_creation_input_tokens)
    assert price.cost(as_5m) < expected

    # the repeat within the hour reads what was written: no write, reads at 0.1x
    again = await pool.submit(_cached("1h", "What is a bucket?")).result()
    assert isinstance(again, Done)
    assert again.usage.cache_read_input_tokens == usage.cache_creation_input_tokens
    assert again.usage.cache_creation_input_tokens == 0 == again.usage.ephemeral_1h_input_tokens


async def test_a_5m_cache_write_is_charged_at_1_25x(make_sim, make_pool) -> None:
    sim = await make_sim(itpm=None)
    pool = make_pool(sim)
    done = await pool.submit(_cached("5m", "And a window?")).result()
    assert isinstance(done, Done)
    usage = done.usage
    assert usage.ephemeral_5m_input_tokens == usage.cache_creation_input_tokens > 5000
    assert usage.ephemeral_1h_input_tokens == 0
    price = PriceTable().price(MODEL)
    assert price is not None
    expected = (usage.input_tokens * price.input + usage.output_tokens * price.output
                + usage.cache_creation_input_tokens * price.input * 1.25) / 1_000_000
    assert done.cost == pytest.approx(expected)


def test_cache_reads_at_the_models_own_price() -> None:
    """Most models read at 0.1x input; Opus 5.5 at $0.20 (0.05x) and Fable 5.1 at $0.25 (0.025x)."""
    reads = Usage(cache_read_input_tokens=1_000_000)
    table = PriceTable()
    assert table.cost("claude-sonnet-5-5", reads) == pytest.approx(0.20)
    assert table.cost("claude-opus-5-5", reads) == pytest.approx(0.20)
    assert table.cost("claude-fable-5-1", reads) == pytest.approx(0.25)
    assert table.cost("claude-opus-5", reads) == pytest.approx(0.50)
    writes = Usage(cache_creation_input_tokens=2_000_000, ephemeral_5m_input_tokens=1_000_000,
                   ephemeral_1h_input_tokens=1_000_000)
    assert table.cost("claude-opus-5-5", writes) == pytest.approx(5 + 8)  # $5 and $8 on its model page


def test_the_cache_saving_is_the_uncached_cost_less_the_cost() -> None:
    """Sonnet 4.6 at $3/MTok input: a million tokens read from the cache cost $0.30 instead of $3 (saved
    $2.70); a million written for 5 minutes cost $3.75 instead of $3 (saved −$0.75)."""
    table = PriceTable()
    assert table.cache_saving(MODEL, Usage(input_tokens=10, output_tokens=5, cache_read_input_tokens=1_000_000)) == pytest.approx(2.70)
    assert table.cache_saving(MODEL, Usage(cache_creation_input_tokens=1_000_000)) == pytest.approx(-0.75)
    assert table.cache_saving(MODEL, Usage(input_tokens=1000, output_tokens=100)) == 0
    assert table.cache_saving("no-such-model", Usage(cache_read_input_tokens=5)) is None


async def test_metrics_sum_the_saving_and_the_hit_ratio(make_sim, make_pool) -> None:
    sim = await make_sim(itpm=None)
    pool = make_pool(sim)
    metrics = Metrics()
    pool.add_listener(metrics.observe)
    results = [await pool.submit(_cached("5m", "Twice?")).result() for _ in range(2)]
    assert all(isinstance(r, Done) for r in results)
    snap = metrics.snapshot()
    table = PriceTable()
    expected = sum(table.cache_saving(MODEL, r.usage) or 0.0 for r in results if isinstance(r, Done))
    assert snap.cache_saved == pytest.approx(expected) and snap.cache_saved > 0  # one write, one read: net saving
    assert snap.cache_hit_ratio == pytest.approx(
        snap.cache_read_tokens / (snap.input_tokens + snap.cache_read_tokens + snap.cache_write_tokens))
    assert 0.4 < (snap.cache_hit_ratio or 0) < 0.5  # half the cacheable input was read, less the questions
