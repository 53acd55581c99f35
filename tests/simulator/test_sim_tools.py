"""Tool use through the unmodified SDK: forced and chosen calls, streamed input rebuilt, tool_result checks."""

from __future__ import annotations

from typing import Any

import anthropic
import jsonschema
import pytest
from sim_helpers import MODEL

WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "score": {"type": "number"},
            "alerts": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "where": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]},
        },
        "required": ["city", "unit", "days", "tags", "where"],
    },
}
CLOCK: dict[str, Any] = {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


def _prompts(n: int) -> list[list[dict[str, Any]]]:
    return [[{"role": "user", "content": f"Question number {i}: what should I wear?"}] for i in range(n)]


async def test_forced_tool_streams_and_sdk_rebuilds_input(client: anthropic.AsyncAnthropic) -> None:
    params = dict(model=MODEL, max_tokens=1024, messages=ASK, tools=[WEATHER, CLOCK],
                  tool_choice={"type": "tool", "name": "get_weather"})
    async with client.messages.stream(**params) as stream:
        partials = [event.partial_json async for event in stream if event.type == "input_json"]
        streamed = await stream.get_final_message()
    whole = await client.messages.create(**params)
    assert streamed.stop_reason == "tool_use" == whole.stop_reason
    assert [b.type for b in streamed.content] == ["tool_use"]  # forced: no text before the call
    block = streamed.content[0]
    assert block.name == "get_weather" and block.id.startswith("toolu_")
    jsonschema.validate(block.input, WEATHER["input_schema"])
    assert len(partials) >= 2
    # the same request decides the same call: the SDK's rebuilt input equals the non-streamed one
    assert block.input == whole.content[-1].input
    assert streamed.usage.output_tokens == whole.usage.output_tokens > 0


async def test_tool_choice_any_always_calls_none_never(client: anthropic.AsyncAnthropic) -> None:
    for messages in _prompts(6):
        forced = await client.messages.create(model=MODEL, max_tokens=512, messages=messages,
                                              tools=[WEATHER, CLOCK], tool_choice={"type": "any"})
        assert forced.stop_reason == "tool_use"
        assert forced.content[-1].type == "tool_use"
        schema = WEATHER if forced.content[-1].name == "get_weather" else CLOCK
        jsonschema.validate(forced.content[-1].input, schema["input_schema"])
        never = await client.messages.create(model=MODEL, max_tokens=512, messages=messages,
                                             tools=[WEATHER, CLOCK], tool_choice={"type": "none"})
        assert never.stop_reason == "end_turn"
        assert [b.type for b in never.content] == ["text"]


async def test_auto_decides_deterministically_and_sometimes_calls(client: anthropic.AsyncAnthropic) -> None:
    outcomes = []
    for messages in _prompts(12):
        first = await client.messages.create(model=MODEL, max_tokens=512, messages=messages, tools=[WEATHER])
        again = await client.messages.create(model=MODEL, max_tokens=512, messages=messages, tools=[WEATHER])
        assert first.stop_reason == again.stop_reason
        assert [b.model_dump(exclude={"id"}) for b in first.content] == \
            [b.model_dump(exclude={"id"}) for b in again.content]
        if first.stop_reason == "tool_use":
            assert [b.type for b in first.content] == ["text", "tool_use"]  # auto: a few words, then the call
        outcomes.append(first.stop_reason)
    assert {"tool_use", "end_turn"} <= set(outcomes)


async def test_tool_result_answers_and_must_match(client: anthropic.AsyncAnthropic) -> None:
    call = await client.messages.create(model=MODEL, max_tokens=512, messages=ASK, tools=[WEATHER],
                                        tool_choice={"type": "any"})
    tool_use = call.content[-1]
    history = ASK + [{"role": "assistant", "content": [b.model_dump() for b in call.content]}]
    answer = await client.messages.create(
        model=MODEL, max_tokens=512, tools=[WEATHER],
        messages=history + [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tool_use.id, "content": "18 degrees, clear"}]}])
    assert answer.stop_reason == "end_turn" and answer.content[0].type == "text"

    with pytest.raises(anthropic.BadRequestError) as exc:
        await client.messages.create(
            model=MODEL, max_tokens=512, tools=[WEATHER],
            messages=history + [{"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01nope", "content": "x"}]}])
    assert "toolu_01nope" in str(exc.value) and "tool_use" in str(exc.value)


@pytest.mark.parametrize(("tools", "choice", "field"), [
    ([{"input_schema": {"type": "object"}}], None, "tools.0.custom.name"),
    ([{"name": "has space", "input_schema": {"type": "object"}}], None, "tools.0.custom.name"),
    ([{"name": "ok"}], None, "tools.0.custom.input_schema"),
    ([WEATHER], {"type": "tool", "name": "missing"}, "tool_choice.tool.name"),
    ([WEATHER], {"type": "sometimes"}, "tool_choice.type"),
])
async def test_malformed_tools_are_400_naming_the_field(client: anthropic.AsyncAnthropic, tools: list[Any],
                                                        choice: dict[str, Any] | None, field: str) -> None:
    extra = {"tool_choice": choice} if choice else {}
    with pytest.raises(anthropic.BadRequestError) as exc:
        await client.messages.create(model=MODEL, max_tokens=64, messages=ASK, tools=tools, **extra)
    assert exc.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert field in str(exc.value)


async def test_forced_tool_with_thinking_is_400(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as exc:
        await client.messages.create(model=MODEL, max_tokens=4096, messages=ASK, tools=[WEATHER],
                                     tool_choice={"type": "any"},
                                     thinking={"type": "enabled", "budget_tokens": 2048})
    assert "tool_choice" in str(exc.value)


async def test_thinking_then_text_then_call_streamed(client: anthropic.AsyncAnthropic) -> None:
    for messages in _prompts(8):
        async with client.messages.stream(model=MODEL, max_tokens=4096, messages=messages, tools=[WEATHER],
                                          thinking={"type": "enabled", "budget_tokens": 2048}) as stream:
            msg = await stream.get_final_message()
        if msg.stop_reason == "tool_use":
            assert [b.type for b in msg.content] == ["thinking", "text", "tool_use"]
            jsonschema.validate(msg.content[-1].input, WEATHER["input_schema"])
            return
    raise AssertionError("auto never called the tool in 8 prompts")


async def test_tool_use_without_its_result_is_400(client: anthropic.AsyncAnthropic) -> None:
    call = await client.messages.create(model=MODEL, max_tokens=512, messages=ASK, tools=[WEATHER],
                                        tool_choice={"type": "any"})
    history = ASK + [{"role": "assistant", "content": [b.model_dump() for b in call.content]}]
    with pytest.raises(anthropic.BadRequestError) as exc:
        await client.messages.create(model=MODEL, max_tokens=512, tools=[WEATHER],
                                     messages=history + [{"role": "user", "content": "never mind"}])
    assert call.content[-1].id in str(exc.value) and "tool_result" in str(exc.value)
