"""The model table as clients see it: /v1/models fields, limits from the docs, one table for all."""

from __future__ import annotations

import anthropic
import pytest
from sim_helpers import HELLO

from claude_tui.engine import models
from claude_tui.engine.events import Usage
from claude_tui.engine.pricing import PriceTable


async def test_models_carry_documented_fields(client: anthropic.AsyncAnthropic) -> None:
    listed = [m async for m in client.models.list()]
    assert [m.id for m in listed] == [spec.id for spec in models.MODELS]
    sonnet = next(m for m in listed if m.id == "claude-sonnet-4-6")
    assert (sonnet.max_tokens, sonnet.max_input_tokens) == (128_000, 1_000_000)
    assert sonnet.line == "sonnet" and sonnet.lifecycle == "active"
    assert sonnet.capabilities is not None and sonnet.capabilities.thinking.types.adaptive.supported
    haiku = await client.models.retrieve("claude-haiku-4-5")
    assert haiku.id == "claude-haiku-4-5-20251001" and haiku.max_tokens == 64_000
    dated = await client.models.retrieve("claude-sonnet-4-5-20250929")
    assert dated.id == "claude-sonnet-4-5-20250929" and dated.max_input_tokens == 200_000


async def test_current_sonnet_takes_its_documented_output_limit(client: anthropic.AsyncAnthropic) -> None:
    # what llm-anthropic sends for claude-sonnet-4.6: max_tokens 128000 (refused as > 64000 before)
    async with client.messages.stream(model="claude-sonnet-4-6", max_tokens=128_000, messages=HELLO) as s:
        message = await s.get_final_message()
    assert message.stop_reason == "end_turn"
    with pytest.raises(anthropic.BadRequestError) as info:
        async with client.messages.stream(model="claude-haiku-4-5", max_tokens=64_001, messages=HELLO) as s:
            await s.get_final_message()
    assert "64000" in str(info.value)


async def test_context_window_follows_the_model(client: anthropic.AsyncAnthropic) -> None:
    big = [{"role": "user", "content": "word " * 220_000}]  # ~275k tokens: over 200K, under 1M
    async with client.messages.stream(model="claude-sonnet-4-6", max_tokens=20, messages=big) as s:
        assert (await s.get_final_message()).usage.input_tokens > 200_000
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=big)
    assert "prompt is too long" in str(info.value) and "200000" in str(info.value)


def test_one_table_for_prices() -> None:
    table = PriceTable()
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    for spec in models.MODELS:
        for name in spec.names:
            assert table.cost(name, usage) == pytest.approx(spec.input_price + spec.output_price)
    assert table.cost("claude-opus-5-5", usage) == 24.0  # not the claude-opus-5 prefix's 30
    assert models.find_model("claude-opus-4-5").id == "claude-opus-4-5-20251101"
    assert models.find_model("claude-opus-5-20260724").id == "claude-opus-5"
    assert models.find_model("claude-foo") is None
