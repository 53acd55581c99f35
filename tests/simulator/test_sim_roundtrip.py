"""Round trips through the real SDK over loopback: streams, plain replies, counting, models."""

from __future__ import annotations

import json
import time
from datetime import datetime

import aiohttp
import anthropic
from sim_helpers import HELLO, MODEL, client_for

from claude_tui.simulator import Simulator



async def test_stream_round_trip(sim: Simulator, client: anthropic.AsyncAnthropic) -> None:
    deltas: list[str] = []
    async with client.messages.stream(model=MODEL, max_tokens=1024, messages=HELLO) as stream:
        async for text in stream.text_stream:
            deltas.append(text)
        message = await stream.get_final_message()
        headers = stream.response.headers
    assert len(deltas) > 5
    assert message.content[0].type == "text"
    assert message.content[0].text == "".join(deltas)
    assert message.stop_reason == "end_turn"
    assert message.model == MODEL
    assert message.id.startswith("msg_")
    assert message.usage.input_tokens > 5
    assert message.usage.output_tokens == 60
    assert headers["request-id"].startswith("req_")
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert sim.request_log[-1].request_id == headers["request-id"]


async def test_non_stream_create(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 60
    assert "token buckets" in message.content[0].text.split(".")[0]  # the opening names the topic
    assert message._request_id and message._request_id.startswith("req_")


async def test_markdown_rich_reply(make_sim) -> None:
    sim = await make_sim(reply_tokens=3000, fixed_length=True)
    async with client_for(sim) as c:
        message = await c.messages.create(model=MODEL, max_tokens=4000, messages=HELLO)
    text = message.content[0].text
    assert message.usage.output_tokens == 3000
    for marker in ("\n## ", "\n- ", "\n1. ", "```python\n", "\n|---", "**"):
        assert marker in text, marker
    assert text.count("```") % 2 == 0  # fences are closed when the reply ends by itself


async def test_count_tokens(client: anthropic.AsyncAnthropic) -> None:
    short = await client.messages.count_tokens(model=MODEL, messages=HELLO)
    long = await client.messages.count_tokens(model=MODEL, system="You are terse. " * 50, messages=HELLO)
    assert 5 < short.input_tokens < 40
    assert long.input_tokens > short.input_tokens + 150


async def test_models_list_and_retrieve(client: anthropic.AsyncAnthropic) -> None:
    ids = [m.id async for m in client.models.list()]
    assert {"claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5-20251101",
            "claude-sonnet-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"} <= set(ids)
    page = await client.models.list(limit=3)
    assert len(page.data) == 3 and page.has_more and page.last_id == page.data[-1].id
    rest = [m.id async for m in client.models.list(limit=3, after_id=page.last_id)]
    assert [m.id for m in page.data] + rest == ids
    model = await client.models.retrieve("claude-haiku-4-5")
    assert model.display_name == "Claude Haiku 4.5"
    assert model.created_at.year >= 2025
    try:
        await client.models.retrieve("claude-foo")
    except anthropic.NotFoundError as exc:
        assert "claude-foo" in str(exc)
    else:
        raise AssertionError("expected NotFoundError")


async def test_max_tokens_cuts_the_reply(client: anthropic.AsyncAnthropic) -> None:
    async with client.messages.stream(model=MODEL, max_tokens=7, messages=HELLO) as stream:
        message = await stream.get_final_message()
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 7
    plain = await client.messages.create(model=MODEL, max_tokens=7, messages=HELLO)
    assert plain.stop_reason == "max_tokens" and plain.usage.output_tokens == 7


async def test_thinking_blocks(client: anthropic.AsyncAnthropic) -> None:
    thinking, text = [], []
    async with client.messages.stream(model=MODEL, max_tokens=2048, messages=HELLO,
                                      thinking={"type": "enabled", "budget_tokens": 1024}) as stream:
        async for event in stream:
            if event.type == "thinking":
                thinking.append(event.thinking)
            elif event.type == "text":
                text.append(event.text)
        message = await stream.get_final_message()
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "".join(thinking) and thinking
    assert message.content[0].signature
    assert message.content[1].text == "".join(text)
    assert message.usage.output_tokens > 60  # thinking counts as output


async def _raw_events(sim: Simulator, body: dict) -> tuple[list[tuple[str, dict]], list[float]]:
    """Read the stream by hand: (event name, data) pairs and the arrival time of each."""
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}
    events: list[tuple[str, dict]] = []
    times: list[float] = []
    async with aiohttp.ClientSession() as session:
        async with session.post(sim.base_url + "/v1/messages", json=body, headers=headers) as resp:
            assert resp.status == 200
            buffer = b""
            async for chunk in resp.content.iter_any():
                buffer += chunk
                while b"\n\n" in buffer:
                    raw, buffer = buffer.split(b"\n\n", 1)
                    lines = raw.decode().split("\n")
                    assert lines[0].startswith("event: "), raw  # every event carries its event: line
                    assert lines[1].startswith("data: ")
                    events.append((lines[0][7:], json.loads(lines[1][6:])))
                    times.append(time.monotonic())
    return events, times


async def test_wire_format_event_by_event(make_sim) -> None:
    sim = await make_sim(ttft_ms=250, ping_seconds=0.1, reply_tokens=20, fixed_length=True)
    events, _ = await _raw_events(sim, {"model": MODEL, "max_tokens": 100, "stream": True, "messages": HELLO})
    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[1] == "ping"  # pings keep the connection alive while the first token is due
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert start["usage"]["output_tokens"] == 1 and start["usage"]["input_tokens"] > 0
    assert events[-2][1]["usage"]["output_tokens"] == 20
    assert events[-2][1]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    first_block = names.index("content_block_start")
    assert events[first_block][1]["content_block"] == {"type": "text", "text": ""}
    assert "ping" in names[first_block:]  # as the API does, one right after the block opens


async def test_timing_ttft_and_rate(make_sim) -> None:
    sim = await make_sim(ttft_ms=300, tps=100, reply_tokens=40, fixed_length=True)
    async with client_for(sim) as c:
        t0 = time.monotonic()
        first = None
        async with c.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
            async for _ in stream.text_stream:
                first = first or time.monotonic()
        end = time.monotonic()
    assert 0.28 <= first - t0 <= 0.9  # upper bounds are loose: CI machines are busy
    assert 0.33 <= end - first <= 1.5  # 39 more tokens at 100/s


async def test_fixed_latency(make_sim) -> None:
    sim = await make_sim(fixed_latency_ms=400, ttft_ms=100, tps=5, reply_tokens=50, jitter=0.3)
    async with client_for(sim) as c:
        t0 = time.monotonic()
        await c.messages.create(model=MODEL, max_tokens=100, messages=HELLO)
        mid = time.monotonic()
        async with c.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
            await stream.get_final_message()
        end = time.monotonic()
    assert 0.39 <= mid - t0 <= 1.0
    assert 0.39 <= end - mid <= 1.0


async def test_unlimited_speed_streams_fast(make_sim) -> None:
    sim = await make_sim(reply_tokens=20000, fixed_length=True, ttft_ms=0)
    async with client_for(sim) as c:
        t0 = time.monotonic()
        async with c.messages.stream(model=MODEL, max_tokens=30000, messages=HELLO) as stream:
            message = await stream.get_final_message()
        elapsed = time.monotonic() - t0
    assert message.usage.output_tokens == 20000
    assert elapsed < 5.0


async def test_same_seed_same_reply(make_sim) -> None:
    a, b, c = await make_sim(seed=7), await make_sim(seed=7), await make_sim(seed=8)
    texts = []
    for sim in (a, b, c):
        async with client_for(sim) as client:
            msg = await client.messages.create(model=MODEL, max_tokens=500, messages=HELLO)
            texts.append(msg.content[0].text)
    assert texts[0] == texts[1]
    assert texts[0] != texts[2]
    async with client_for(a) as client:
        other = await client.messages.create(model=MODEL, max_tokens=500,
                                             messages=[{"role": "user", "content": "Something else"}])
    assert other.content[0].text != texts[0]


async def test_rate_limit_headers_are_plausible(make_sim) -> None:
    sim = await make_sim(rpm=50, itpm=100_000, otpm=20_000, burst=60)
    prompt = [{"role": "user", "content": "word " * 800}]  # ~1,000 input tokens: visible after rounding to thousands
    async with client_for(sim) as c:
        async with c.messages.stream(model=MODEL, max_tokens=1000, messages=prompt) as stream:
            headers = stream.response.headers
            await stream.get_final_message()
    now = time.time()
    for group, limit in (("requests", 50), ("input-tokens", 100_000), ("output-tokens", 20_000)):
        base = f"anthropic-ratelimit-{group}-"
        assert int(headers[base + "limit"]) == limit
        assert 0 <= int(headers[base + "remaining"]) < limit
        reset = datetime.fromisoformat(headers[base + "reset"].replace("Z", "+00:00")).timestamp()
        assert now - 1 <= reset <= now + 61
    assert int(headers["anthropic-ratelimit-requests-remaining"]) == 49
    assert int(headers["anthropic-ratelimit-output-tokens-remaining"]) == 19_000  # max_tokens reserved
    assert "anthropic-ratelimit-tokens-limit" in headers


async def test_binds_loopback_and_free_port(sim: Simulator) -> None:
    assert sim.base_url == f"http://127.0.0.1:{sim.port}"
    assert sim.port > 0
    assert sim.config.host == "127.0.0.1"


async def test_stop_sequences(client: anthropic.AsyncAnthropic) -> None:
    full = (await client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)).content[0].text
    stop = full.split()[5]
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO, stop_sequences=[stop]) as stream:
        message = await stream.get_final_message()
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == stop
    assert stop not in message.content[0].text
    assert full.startswith(message.content[0].text)
    assert 0 < message.usage.output_tokens < 60
