"""Prompt caching through the unmodified SDK: creation then read, TTL split, minimum length, ITPM."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Awaitable

import anthropic
import pytest
from sim_helpers import MODEL, client_for

from claude_tui.engine.events import Usage
from claude_tui.engine.pricing import Price
from claude_tui.simulator import Simulator

BIG = "Reference material about token buckets and retry policies. " * 600  # ~9000 tokens
SMALL = "A short system prompt. " * 20  # far below every model's minimum


def _system(text: str, **cc: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral", **cc}}]


def _ask(q: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": q}]


async def test_create_then_read_streamed(client: anthropic.AsyncAnthropic) -> None:
    async with client.messages.stream(model=MODEL, max_tokens=256, system=_system(BIG),
                                      messages=_ask("First question?")) as s:
        first = await s.get_final_message()
    async with client.messages.stream(model=MODEL, max_tokens=256, system=_system(BIG),
                                      messages=_ask("A different second question?")) as s:
        second = await s.get_final_message()
    assert first.usage.cache_creation_input_tokens > 5000
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.input_tokens < 100  # only the uncached rest
    assert first.usage.input_tokens < 100


async def test_one_hour_ttl_split_and_non_streamed(client: anthropic.AsyncAnthropic) -> None:
    first = await client.messages.create(model=MODEL, max_tokens=64, system=_system(BIG, ttl="1h"),
                                         messages=_ask("Hello?"))
    assert first.usage.cache_creation.ephemeral_1h_input_tokens == first.usage.cache_creation_input_tokens > 0
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == 0
    assert first.usage.service_tier == "standard"


async def test_below_minimum_is_silently_not_cached(client: anthropic.AsyncAnthropic) -> None:
    for _ in range(2):
        msg = await client.messages.create(model=MODEL, max_tokens=64, system=_system(SMALL),
                                           messages=_ask("Hello?"))
        assert msg.usage.cache_creation_input_tokens == 0
        assert msg.usage.cache_read_input_tokens == 0
    # Haiku 4.5's minimum is 4096: a ~2000-token prefix caches on Sonnet but not on Haiku
    mid = "Mid-sized context for caching limits. " * 210
    sonnet = await client.messages.create(model=MODEL, max_tokens=64, system=_system(mid), messages=_ask("Hi"))
    haiku = await client.messages.create(model="claude-haiku-4-5", max_tokens=64, system=_system(mid),
                                         messages=_ask("Hi"))
    assert sonnet.usage.cache_creation_input_tokens > 1024
    assert haiku.usage.cache_creation_input_tokens == 0


async def test_cache_is_per_model(client: anthropic.AsyncAnthropic) -> None:
    await client.messages.create(model=MODEL, max_tokens=64, system=_system(BIG), messages=_ask("Hi"))
    other = await client.messages.create(model="claude-opus-4-8", max_tokens=64, system=_system(BIG),
                                         messages=_ask("Hi"))
    assert other.usage.cache_read_input_tokens == 0 and other.usage.cache_creation_input_tokens > 0


async def test_automatic_top_level_form_moves_forward(client: anthropic.AsyncAnthropic) -> None:
    turns: list[dict[str, Any]] = [{"role": "user", "content": BIG}]
    first = await client.messages.create(model=MODEL, max_tokens=64, messages=turns,
                                         extra_body={"cache_control": {"type": "ephemeral"}})
    turns += [{"role": "assistant", "content": first.content[0].text},
              {"role": "user", "content": "And a follow-up question?"}]
    second = await client.messages.create(model=MODEL, max_tokens=64, messages=turns,
                                          extra_body={"cache_control": {"type": "ephemeral"}})
    assert first.usage.cache_creation_input_tokens > 5000
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens > 0  # the new turns are written after the hit


async def test_more_than_four_breakpoints_is_400(client: anthropic.AsyncAnthropic) -> None:
    system = [{"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError) as exc:
        await client.messages.create(model=MODEL, max_tokens=64, system=system, messages=_ask("Hi"))
    assert "cache_control" in str(exc.value)
    with pytest.raises(anthropic.BadRequestError) as exc:
        await client.messages.create(model=MODEL, max_tokens=64, system=_system("x", ttl="2h"), messages=_ask("Hi"))
    assert "ttl" in str(exc.value)


async def test_itpm_counts_cache_writes_not_reads(make_sim: Callable[..., Awaitable[Simulator]]) -> None:
    # the bucket holds ~12k input tokens: one write of ~9k fits once; reads of it do not drain it
    sim = await make_sim(itpm=12_000, burst=60.0)
    async with client_for(sim) as client:
        first = await client.messages.create(model=MODEL, max_tokens=64, system=_system(BIG), messages=_ask("Hi"))
        assert first.usage.cache_creation_input_tokens > 5000
        for i in range(3):
            again = await client.messages.create(model=MODEL, max_tokens=64, system=_system(BIG),
                                                 messages=_ask(f"Question {i}?"))
            assert again.usage.cache_read_input_tokens > 5000
        with pytest.raises(anthropic.RateLimitError):  # the same prompt uncached costs the full ~9k
            await client.messages.create(model=MODEL, max_tokens=64, system=BIG, messages=_ask("Hi"))


def test_price_charges_cache_writes_by_ttl_and_reads() -> None:
    price = Price(input=3, output=15)
    usage = Usage(input_tokens=1_000_000, output_tokens=0, cache_creation_input_tokens=2_000_000,
                  cache_read_input_tokens=1_000_000)
    # without the TTL split every write is a 5-minute one: 1M input at 3, 2M writes at 3.75, 1M reads at 0.3
    assert price.cost(usage) == pytest.approx(3 + 7.5 + 0.3)
    split = replace(usage, ephemeral_5m_input_tokens=1_000_000, ephemeral_1h_input_tokens=1_000_000)
    # 1M 5m writes at 3.75, 1M 1h writes at 6 (2x input)
    assert price.cost(split) == pytest.approx(3 + 3.75 + 6 + 0.3)


def test_entries_expire_after_their_ttl_and_a_read_restarts_it() -> None:
    from claude_tui.simulator.cache import PromptCache

    now = [1000.0]
    cache = PromptCache(clock=lambda: now[0])
    body = {"model": MODEL, "max_tokens": 64, "system": _system(BIG), "messages": _ask("Hi")}
    first = cache.plan(body, 10_000)
    assert first.created_5m > 5000 and first.read == 0
    cache.commit(first)
    now[0] += 299
    hit = cache.plan(body, 10_000)
    assert hit.read == first.created_5m
    cache.commit(hit)  # a read restarts the 5 minutes
    now[0] += 299
    assert cache.plan(body, 10_000).read == first.created_5m
    now[0] += 301
    gone = cache.plan(body, 10_000)
    assert gone.read == 0 and gone.created_5m == first.created_5m
    hour = {**body, "system": _system(BIG, ttl="1h")}
    cache.commit(cache.plan(hour, 10_000))
    now[0] += 3000
    assert cache.plan(hour, 10_000).read > 5000


def test_minimum_lengths_of_the_5_family_do_not_leak_by_prefix() -> None:
    from claude_tui.simulator.cache import min_cacheable
    assert min_cacheable("claude-opus-5") == 512 and min_cacheable("claude-fable-5-1") == 512
    assert min_cacheable("claude-opus-5-5") == 1024  # not Opus 5's 512 by prefix
    assert min_cacheable("claude-haiku-4-5-20251001") == 4096
