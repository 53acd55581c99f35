"""Empty and over-long prompts get the API's 400s, through the real SDK."""

import anthropic
import pytest

from claude_tui.simulator import Simulator, SimulatorConfig


async def test_empty_and_too_long_prompts_are_400() -> None:
    async with Simulator(SimulatorConfig(ttft_ms=0, tps=0, rpm=0, itpm=0, otpm=0)) as sim:
        client = anthropic.AsyncAnthropic(api_key="k", base_url=sim.base_url, max_retries=0)
        with pytest.raises(anthropic.BadRequestError, match="must be non-empty"):
            await client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": ""}])
        with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
            await client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "word " * 300_000}])
        count = await client.messages.count_tokens(model="claude-haiku-4-5", messages=[{"role": "user", "content": "word " * 300_000}])
        assert count.input_tokens > 200_000
        await client.close()
