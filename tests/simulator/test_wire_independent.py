"""The simulator seen by a client nobody here wrote: httpx + httpx-sse, checked against the documented wire format.

The SDK tolerates things the API never sends (a missing field, a block opened twice, an event after
message_stop); this parser does not. It follows the Messages API streaming page
(platform.claude.com/docs/en/build-with-claude/streaming): message_start, then for each content block
content_block_start / content_block_delta* / content_block_stop with increasing indexes, then
message_delta and message_stop; ping may appear anywhere; an `error` event ends a failed stream.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator

import httpx
import jsonschema
import pytest
from httpx_sse import aconnect_sse

from claude_tui.simulator import Simulator

MODEL = "claude-sonnet-4-6"
HEADERS = {"x-api-key": "sim-key", "anthropic-version": "2023-06-01", "content-type": "application/json"}
ASK = [{"role": "user", "content": "How do token buckets refill?"}]
TOOL = {"name": "lookup", "description": "Look something up",
        "input_schema": {"type": "object", "required": ["query", "limit", "mode"],
                         "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1},
                                        "mode": {"enum": ["fast", "exact"]},
                                        "filters": {"type": "array", "items": {"type": "boolean"}}}}}
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
DELTA_FOR = {"text": "text_delta", "thinking": "thinking_delta", "tool_use": "input_json_delta"}


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, headers=HEADERS, timeout=30) as client:
        yield client


async def _events(http: httpx.AsyncClient, body: dict[str, Any]) -> tuple[httpx.Response, list[tuple[str, Any]]]:
    out: list[tuple[str, Any]] = []
    async with aconnect_sse(http, "POST", "/v1/messages", json={**body, "stream": True}) as source:
        assert source.response.status_code == 200
        async for sse in source.aiter_sse():
            out.append((sse.event, json.loads(sse.data)))
        return source.response, out


def assemble(events: list[tuple[str, Any]]) -> dict[str, Any]:
    """Rebuild the message, failing on anything out of the documented order or shape."""
    names = [name for name, _ in events]
    for name, data in events:
        assert data["type"] == name, f"event: {name} carries type {data['type']}"
    real = [(n, d) for n, d in events if n != "ping"]
    assert real[0][0] == "message_start" and real[-1][0] == "message_stop", names
    assert real[-2][0] == "message_delta", names
    message = real[0][1]["message"]
    for key in ("id", "type", "role", "content", "model", "stop_reason", "stop_sequence", "usage"):
        assert key in message, key
    assert message["type"] == "message" and message["role"] == "assistant" and message["content"] == []
    assert message["stop_reason"] is None and message["id"].startswith("msg_")
    for key in USAGE_FIELDS:
        assert isinstance(message["usage"][key], int), key
    blocks: list[dict[str, Any]] = []
    open_index: int | None = None
    partial: dict[int, str] = {}
    for name, data in real[1:-2]:
        if name == "content_block_start":
            assert open_index is None, "a block started before the previous one stopped"
            assert data["index"] == len(blocks), "block indexes must count up from 0"
            open_index = data["index"]
            block = dict(data["content_block"])
            if block["type"] == "tool_use":
                assert block["input"] == {} and block["id"].startswith("toolu_") and block["name"]
                partial[open_index] = ""
            blocks.append(block)
        elif name == "content_block_delta":
            assert data["index"] == open_index, "a delta for a block that is not open"
            delta, block = data["delta"], blocks[open_index]
            if delta["type"] == "signature_delta":
                assert block["type"] == "thinking" and not block.get("signature")
                block["signature"] = delta["signature"]
                continue
            assert delta["type"] == DELTA_FOR[block["type"]], (block["type"], delta["type"])
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                assert not block.get("signature"), "thinking after the signature"
                block["thinking"] += delta["thinking"]
            else:
                partial[open_index] += delta["partial_json"]
        elif name == "content_block_stop":
            assert data["index"] == open_index
            if open_index in partial:
                blocks[open_index]["input"] = json.loads(partial[open_index])
            if blocks[open_index]["type"] == "thinking":
                assert blocks[open_index].get("signature"), "a thinking block must end with its signature"
            open_index = None
        else:
            raise AssertionError(f"unexpected event {name} inside the message")
    assert open_index is None, "message_delta while a block is open"
    final = real[-2][1]
    assert set(final["delta"]) >= {"stop_reason", "stop_sequence"}
    assert isinstance(final["usage"]["output_tokens"], int)
    message.update(content=blocks, stop_reason=final["delta"]["stop_reason"],
                   stop_sequence=final["delta"]["stop_sequence"], usage={**message["usage"], **final["usage"]})
    return message


async def test_text_stream_framing_and_order(sim: Simulator, http: httpx.AsyncClient) -> None:
    body = {"model": MODEL, "max_tokens": 512, "messages": ASK}
    async with http.stream("POST", "/v1/messages", json={**body, "stream": True}) as raw:
        assert raw.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert raw.headers["request-id"].startswith("req_")
        text = (await raw.aread()).decode()
    frames = text.split("\n\n")
    assert frames[-1] == "", "the stream must end with a blank line"
    for frame in frames[:-1]:
        lines = frame.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), frame
        json.loads(lines[1][6:])
    _resp, events = await _events(http, body)
    message = assemble(events)
    assert [b["type"] for b in message["content"]] == ["text"]
    assert message["stop_reason"] == "end_turn"
    whole = (await http.post("/v1/messages", json=body)).json()
    assert whole["content"][0]["text"] == message["content"][0]["text"]
    assert whole["usage"]["output_tokens"] == message["usage"]["output_tokens"]


async def test_thinking_stream(http: httpx.AsyncClient) -> None:
    body = {"model": MODEL, "max_tokens": 4096, "messages": ASK,
            "thinking": {"type": "enabled", "budget_tokens": 2048}}
    _resp, events = await _events(http, body)
    message = assemble(events)
    assert [b["type"] for b in message["content"]] == ["thinking", "text"]
    assert message["content"][0]["thinking"] and message["content"][0]["signature"]


async def test_tool_use_stream_partial_json_parses(http: httpx.AsyncClient) -> None:
    body = {"model": MODEL, "max_tokens": 512, "messages": ASK, "tools": [TOOL],
            "tool_choice": {"type": "tool", "name": "lookup"}}
    _resp, events = await _events(http, body)
    deltas = [d["delta"]["partial_json"] for n, d in events
              if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"]
    assert deltas[0] == "" and len(deltas) > 2
    message = assemble(events)
    assert message["stop_reason"] == "tool_use"
    block = message["content"][-1]
    jsonschema.validate(block["input"], TOOL["input_schema"])
    whole = (await http.post("/v1/messages", json=body)).json()
    assert whole["content"][-1]["input"] == block["input"] and whole["stop_reason"] == "tool_use"


async def test_parallel_tool_calls_are_consecutive_blocks(http: httpx.AsyncClient) -> None:
    """Several tool_use blocks in one reply: each opens, streams its own input_json_deltas and stops
    before the next opens, indexes counting up; the whole reply carries the same calls."""
    other = {"name": "fetch", "input_schema": {"type": "object", "properties": {"url": {"type": "string"}},
                                               "required": ["url"]}}
    schemas = {"lookup": TOOL["input_schema"], "fetch": other["input_schema"]}
    for i in range(20):
        body = {"model": MODEL, "max_tokens": 1024, "tools": [TOOL, other], "tool_choice": {"type": "any"},
                "messages": [{"role": "user", "content": f"Research question {i}"}]}
        _resp, events = await _events(http, body)
        message = assemble(events)  # fails on any block out of order or interleaved
        calls = [b for b in message["content"] if b["type"] == "tool_use"]
        if len(calls) < 2:
            continue
        assert message["stop_reason"] == "tool_use" and len({c["id"] for c in calls}) == len(calls)
        for call in calls:
            jsonschema.validate(call["input"], schemas[call["name"]])
        whole = (await http.post("/v1/messages", json=body)).json()
        assert [(b["name"], b["input"]) for b in whole["content"]] == [(c["name"], c["input"]) for c in calls]
        return
    raise AssertionError("no parallel call in 20 prompts")


async def test_cache_usage_in_message_start_and_whole(http: httpx.AsyncClient) -> None:
    system = [{"type": "text", "text": "Stable reference text for the cache. " * 500,
               "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    body = {"model": MODEL, "max_tokens": 64, "messages": ASK, "system": system}
    _resp, events = await _events(http, body)
    start = events[0][1]["message"]["usage"]
    assert start["cache_creation_input_tokens"] > 3000 and start["cache_read_input_tokens"] == 0
    assert start["cache_creation"] == {"ephemeral_5m_input_tokens": 0,
                                       "ephemeral_1h_input_tokens": start["cache_creation_input_tokens"]}
    assert start["service_tier"] == "standard"
    assemble(events)
    whole = (await http.post("/v1/messages", json=body)).json()["usage"]
    assert whole["cache_read_input_tokens"] == start["cache_creation_input_tokens"]
    assert whole["cache_creation_input_tokens"] == 0 and whole["input_tokens"] == start["input_tokens"]


async def test_error_bodies_and_mid_stream_error(sim: Simulator, http: httpx.AsyncClient) -> None:
    bad = await http.post("/v1/messages", json={"model": MODEL, "max_tokens": 64, "messages": ASK, "nope": 1})
    assert bad.status_code == 400 and bad.headers["request-id"].startswith("req_")
    body = bad.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "nope" in body["error"]["message"] and body["request_id"] == bad.headers["request-id"]

    sim.inject("rate_limit", retry_after=3)
    limited = await http.post("/v1/messages", json={"model": MODEL, "max_tokens": 64, "messages": ASK})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert limited.json()["error"]["type"] == "rate_limit_error"

    sim.inject("stream_error", after_tokens=5)
    _resp, events = await _events(http, {"model": MODEL, "max_tokens": 512, "messages": ASK})
    names = [n for n, _ in events if n != "ping"]
    assert names[0] == "message_start" and names[-1] == "error"
    assert "message_stop" not in names and "message_delta" not in names
    assert events[-1][1]["error"]["type"] == "overloaded_error"


async def test_whole_reply_shape(http: httpx.AsyncClient) -> None:
    resp = await http.post("/v1/messages", json={"model": MODEL, "max_tokens": 256, "messages": ASK,
                                                 "tools": [TOOL], "tool_choice": {"type": "any"}})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}
    assert body["type"] == "message" and body["role"] == "assistant" and body["stop_reason"] == "tool_use"
    for key in USAGE_FIELDS:
        assert isinstance(body["usage"][key], int), key
    assert set(body["usage"]["cache_creation"]) == {"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"}
    block = body["content"][-1]
    assert set(block) == {"type", "id", "name", "input"} and block["type"] == "tool_use"
    jsonschema.validate(block["input"], TOOL["input_schema"])
