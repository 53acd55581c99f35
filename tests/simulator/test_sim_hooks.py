"""The Python hooks other tests rely on: inject, stats, request_log, reset, threads, configure."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import anthropic
import pytest
from sim_helpers import HELLO, MODEL, client_for, fast_config

from claude_tui.simulator import Simulator, serve_forever, start_in_thread


async def _stream(c: anthropic.AsyncAnthropic) -> str:
    async with c.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        return (await stream.get_final_message()).content[0].text


async def test_peak_in_flight_counts_concurrent_streams(make_sim) -> None:
    sim = await make_sim(ttft_ms=150, tps=400)
    async with client_for(sim) as c:
        task = asyncio.create_task(_stream(c))
        while sim.stats.in_flight == 0:
            await asyncio.sleep(0.01)
        assert sim.stats.in_flight == 1
        await task
        assert sim.stats.in_flight == 0
        sim.reset_stats()
        await asyncio.gather(*(_stream(c) for _ in range(4)))
    stats = sim.stats
    assert stats.requests_total == 4
    assert stats.peak_in_flight == 4
    assert stats.in_flight == 0
    assert stats.status_counts == {200: 4}
    assert len(sim.request_log) == 4
    assert all(r.finished_at and r.finished_at - r.received_at >= 0.14 for r in sim.request_log)


async def test_client_going_away_ends_the_request(make_sim) -> None:
    sim = await make_sim(stall_seconds=30)
    sim.inject("stall", after_tokens=5)
    async with client_for(sim) as c:
        async with c.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
            async for _text in stream.text_stream:
                break  # leaving the block closes the connection mid-stall
    deadline = time.monotonic() + 3
    while sim.stats.in_flight and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert sim.stats.in_flight == 0
    assert sim.request_log[-1].outcome == "client_closed"


async def test_retry_after_hook_and_log(sim: Simulator, client: anthropic.AsyncAnthropic) -> None:
    sim.inject("rate_limit", retry_after=1)
    with pytest.raises(anthropic.RateLimitError) as info:
        await client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    await asyncio.sleep(float(info.value.response.headers["retry-after"]))
    await client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    first, second = sim.request_log
    assert (first.status, first.fault, first.retry_after, first.error_type) == (429, "rate_limit", 1,
                                                                                "rate_limit_error")
    assert second.status == 200 and second.fault is None
    assert second.received_at - first.finished_at >= 1.0
    assert first.retry_count == 0 and first.model == MODEL


async def test_injection_waits_for_a_valid_request(sim: Simulator, client: anthropic.AsyncAnthropic) -> None:
    sim.inject("overloaded")
    with pytest.raises(anthropic.NotFoundError):
        await client.messages.create(model="claude-nope", max_tokens=10, messages=HELLO)
    assert sim.pending_faults == 1
    with pytest.raises(anthropic.OverloadedError):
        await client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert sim.pending_faults == 0


def test_inject_rejects_nonsense() -> None:
    sim = Simulator(fast_config())
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.inject("gremlins")
    with pytest.raises(ValueError):
        sim.inject("stall", count=0)


async def test_configure_while_running(sim: Simulator, client: anthropic.AsyncAnthropic) -> None:
    sim.configure(reply_tokens=5, rpm=1)
    message = await client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)
    assert message.usage.output_tokens == 5
    with pytest.raises(anthropic.RateLimitError):
        await client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)
    sim.reset_limits()
    await client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)
    with pytest.raises(ValueError):
        sim.configure(port=1)


def test_threaded_simulator_from_sync_code() -> None:
    with start_in_thread(fast_config()) as handle:
        assert handle.base_url.startswith("http://127.0.0.1:")
        client = anthropic.Anthropic(api_key="sim-key", base_url=handle.base_url, max_retries=0)
        with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
            assert stream.get_final_message().stop_reason == "end_turn"
        handle.inject("overloaded")
        with pytest.raises(anthropic.OverloadedError):
            client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
        assert handle.stats.requests_total == 2
        assert [r.status for r in handle.request_log] == [200, 529]
        handle.reset_stats()
        assert handle.stats.requests_total == 0
    with pytest.raises(anthropic.APIConnectionError):  # stopped: nothing listens any more
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    client.close()


async def test_threaded_simulator_serves_an_async_client() -> None:
    handle = start_in_thread(fast_config(ttft_ms=100))
    try:
        async with anthropic.AsyncAnthropic(api_key="k", base_url=handle.base_url, max_retries=0) as c:
            texts = await asyncio.gather(*(c.messages.create(model=MODEL, max_tokens=50, messages=HELLO)
                                           for _ in range(3)))
        assert len(texts) == 3 and handle.stats.peak_in_flight == 3
    finally:
        handle.stop()


async def test_serve_forever_announces_and_stops_on_cancel() -> None:
    lines: list[str] = []
    task = asyncio.create_task(serve_forever(fast_config(rpm=50), announce=lines.append))
    while len(lines) < 2:
        await asyncio.sleep(0.01)
    assert lines[0].startswith("claude-tui simulator listening on http://127.0.0.1:")
    assert "rpm=50" in lines[0]
    url = lines[0].split()[4]
    assert lines[1] == f"export ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY=sim-key"
    async with anthropic.AsyncAnthropic(api_key="sim-key", base_url=url, max_retries=0) as c:
        assert (await c.models.list()).data
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(url + "/v1/models")


async def test_stop_ends_a_stalled_stream_at_once() -> None:
    sim = Simulator(fast_config(stall_seconds=30))
    await sim.start()
    sim.inject("stall", after_tokens=5)
    async with client_for(sim) as c:
        async def read() -> None:
            async with c.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
                async for _text in stream.text_stream:
                    pass

        task = asyncio.create_task(read())
        while not sim.request_log or sim.request_log[-1].output_tokens == 0:
            await asyncio.sleep(0.01)
        t0 = time.monotonic()
        await sim.stop()
        assert time.monotonic() - t0 < 0.5
        with pytest.raises(Exception) as info:  # the client sees the connection go
            await asyncio.wait_for(task, 2)
        assert not isinstance(info.value, asyncio.TimeoutError)
    assert sim.stats.in_flight == 0
