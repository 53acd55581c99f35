"""Tool use through the unmodified SDK: forced and chosen calls, streamed input rebuilt, tool_result checks."""

from __future__ import annotations

import json
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
                  tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True})
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
        assert {b.type for b in forced.content} == {"tool_use"}  # forced: calls only, maybe in parallel
        for block in forced.content:
            schema = WEATHER if block.name == "get_weather" else CLOCK
            jsonschema.validate(block.input, schema["input_schema"])
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
            # (one tool given: never parallel)
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


TOOLS3: list[dict[str, Any]] = [WEATHER, CLOCK, {
    "name": "search_docs", "input_schema": {"type": "object", "properties": {"query": {"type": "string"}},
                                            "required": ["query"]}}]
SCHEMAS = {tool["name"]: tool["input_schema"] for tool in TOOLS3}


async def _parallel_reply(client: anthropic.AsyncAnthropic, **extra: Any) -> tuple[Any, Any, list[list[str]]]:
    """The first of a few prompts whose reply calls several tools: streamed (with the partial JSON of each
    block) and not streamed."""
    for messages in _prompts(20):
        params = dict(model=MODEL, max_tokens=1024, messages=messages, tools=TOOLS3, **extra)
        whole = await client.messages.create(**params)
        if sum(b.type == "tool_use" for b in whole.content) < 2:
            continue
        partials: dict[int, list[str]] = {}
        async with client.messages.stream(**params) as stream:
            async for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                    partials.setdefault(event.index, []).append(event.delta.partial_json)
            streamed = await stream.get_final_message()
        return whole, streamed, [partials[i] for i in sorted(partials)]
    raise AssertionError("no parallel call in 20 prompts")


async def test_parallel_calls_each_stream_their_own_block_and_the_sdk_rebuilds_every_input(
        client: anthropic.AsyncAnthropic) -> None:
    whole, streamed, partials = await _parallel_reply(client)
    calls = [b for b in streamed.content if b.type == "tool_use"]
    assert streamed.stop_reason == "tool_use" and 2 <= len(calls) <= 3
    assert len({c.id for c in calls}) == len(calls) and len({c.name for c in calls}) == len(calls)
    # every block got its own input_json_delta run (the first one empty) that joins to its input
    assert len(partials) == len(calls)
    for call, pieces in zip(calls, partials):
        assert pieces[0] == ""
        assert json.loads("".join(pieces)) == call.input
        jsonschema.validate(call.input, SCHEMAS[call.name])
    # the same request decides the same calls, streamed or not
    assert [(c.name, c.input) for c in calls] == [(b.name, b.input) for b in whole.content if b.type == "tool_use"]
    assert streamed.usage.output_tokens == whole.usage.output_tokens


async def test_parallel_calls_need_every_result_in_the_next_message(client: anthropic.AsyncAnthropic) -> None:
    whole, _streamed, _ = await _parallel_reply(client, tool_choice={"type": "any"})
    ids = [b.id for b in whole.content if b.type == "tool_use"]
    # the pairing rule looks only at the assistant message just before: any question will do
    history = [{"role": "user", "content": "What should I wear?"},
               {"role": "assistant", "content": [b.model_dump() for b in whole.content]}]
    results = [{"type": "tool_result", "tool_use_id": i, "content": "done"} for i in ids]
    answer = await client.messages.create(model=MODEL, max_tokens=256, tools=TOOLS3,
                                          messages=history + [{"role": "user", "content": results}])
    assert answer.stop_reason == "end_turn"
    with pytest.raises(anthropic.BadRequestError) as exc:  # one result missing: 400 naming it
        await client.messages.create(model=MODEL, max_tokens=256, tools=TOOLS3,
                                     messages=history + [{"role": "user", "content": results[:-1]}])
    assert ids[-1] in str(exc.value) and "tool_result" in str(exc.value)
    with pytest.raises(anthropic.BadRequestError) as exc:  # text before the results: 400
        await client.messages.create(model=MODEL, max_tokens=256, tools=TOOLS3, messages=history + [
            {"role": "user", "content": [{"type": "text", "text": "Here:"}, *results]}])
    assert "must come first" in str(exc.value)


async def test_disable_parallel_tool_use_means_one_call_at_most(client: anthropic.AsyncAnthropic) -> None:
    for messages in _prompts(20):
        for choice in ({"type": "auto", "disable_parallel_tool_use": True},
                       {"type": "any", "disable_parallel_tool_use": True}):
            msg = await client.messages.create(model=MODEL, max_tokens=1024, messages=messages, tools=TOOLS3,
                                               tool_choice=choice)
            n = sum(b.type == "tool_use" for b in msg.content)
            assert n <= 1 if choice["type"] == "auto" else n == 1


async def test_the_text_before_an_auto_call_names_the_tool(client: anthropic.AsyncAnthropic) -> None:
    for messages in _prompts(12):
        msg = await client.messages.create(model=MODEL, max_tokens=512, messages=messages, tools=[WEATHER])
        if msg.stop_reason == "tool_use":
            text = msg.content[0].text
            assert "`get_weather`" in text and text.endswith("."), text
            return
    raise AssertionError("auto never called the tool in 12 prompts")
