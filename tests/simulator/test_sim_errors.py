"""Every error the simulator can give, seen through the real SDK's exception classes."""

from __future__ import annotations

import time

import aiohttp
import anthropic
import httpx2
import pytest
from sim_helpers import HELLO, MODEL, client_for

from claude_tui.simulator import Simulator

HEADERS = {"anthropic-version": "2023-06-01", "content-type": "application/json"}


async def raw_post(sim: Simulator, body: object, headers: dict[str, str] | None = None,
                   path: str = "/v1/messages") -> tuple[int, dict, dict]:
    """A request the SDK would not send (no key, a broken body): (status, json, headers)."""
    data = body if isinstance(body, (bytes, str)) else None
    async with aiohttp.ClientSession() as session:
        async with session.post(sim.base_url + path, headers=headers if headers is not None else
                                {**HEADERS, "x-api-key": "k"}, data=data,
                                json=None if data is not None else body) as resp:
            return resp.status, await resp.json(), dict(resp.headers)


async def test_no_key_is_401(sim: Simulator) -> None:
    status, body, headers = await raw_post(sim, {"model": MODEL, "max_tokens": 10, "messages": HELLO}, HEADERS)
    assert status == 401
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    assert body["request_id"] == headers["request-id"]


async def test_wrong_key_is_authentication_error(make_sim) -> None:
    sim = await make_sim(api_keys=frozenset({"good-key"}))
    async with client_for(sim, api_key="wrong-key") as c:
        with pytest.raises(anthropic.AuthenticationError) as info:
            await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert info.value.status_code == 401
    async with client_for(sim, api_key="good-key") as c:  # Authorization: Bearer, as SDK 2.x sends
        assert (await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)).content
    status, _, _ = await raw_post(sim, {"model": MODEL, "max_tokens": 10, "messages": HELLO},
                                  {**HEADERS, "x-api-key": "good-key"})
    assert status == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"max_tokens": 10, "messages": HELLO}, "model"),
    ({"model": 5, "max_tokens": 10, "messages": HELLO}, "model"),
    ({"model": MODEL, "messages": HELLO}, "max_tokens"),
    ({"model": MODEL, "max_tokens": 0, "messages": HELLO}, "max_tokens"),
    ({"model": MODEL, "max_tokens": "10", "messages": HELLO}, "max_tokens"),
    ({"model": MODEL, "max_tokens": 10**6, "messages": HELLO}, "max_tokens"),
    ({"model": MODEL, "max_tokens": 10}, "messages"),
    ({"model": MODEL, "max_tokens": 10, "messages": []}, "messages"),
    ({"model": MODEL, "max_tokens": 10, "messages": [{"role": "assistant", "content": "hi"}]}, "messages"),
    ({"model": MODEL, "max_tokens": 10, "messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
    ({"model": MODEL, "max_tokens": 10, "messages": [{"role": "user"}]}, "messages.0.content"),
    ({"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": 3}]}, "messages.0.content"),
    ({"model": MODEL, "max_tokens": 2000, "messages": HELLO, "thinking": {"type": "enabled", "budget_tokens": 5}},
     "budget_tokens"),
])
async def test_bad_body_names_the_field(sim: Simulator, body: dict, field: str) -> None:
    status, data, _ = await raw_post(sim, body)
    assert status == 400
    assert data["error"]["type"] == "invalid_request_error"
    assert field in data["error"]["message"]


async def test_non_json_body_is_400(sim: Simulator) -> None:
    status, data, _ = await raw_post(sim, b"{not json", {**HEADERS, "x-api-key": "k"})
    assert status == 400 and data["error"]["type"] == "invalid_request_error"


async def test_unknown_path_answers_in_api_shape(sim: Simulator) -> None:
    status, data, _ = await raw_post(sim, {}, path="/v1/nothing")
    assert status == 404 and data["error"]["type"] == "not_found_error"


async def test_sampling_parameters_are_refused(client: anthropic.AsyncAnthropic, sim: Simulator) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(model=MODEL, max_tokens=10, messages=HELLO, extra_body={"temperature": 0.7})
    assert "temperature" in info.value.message
    # an older anthropic-version still had them
    status, _, _ = await raw_post(sim, {"model": MODEL, "max_tokens": 10, "messages": HELLO, "top_p": 0.9})
    assert status == 200


async def test_bad_request_from_sdk(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(model=MODEL, max_tokens=-1, messages=HELLO)
    assert info.value.status_code == 400 and "max_tokens" in info.value.message


async def test_unknown_model_is_404(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        await client.messages.create(model="claude-foo", max_tokens=10, messages=HELLO)
    assert info.value.body["error"]["message"] == "model: claude-foo"  # type: ignore[index]


async def test_dated_model_id_is_accepted(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(model="claude-haiku-4-5-20251001", max_tokens=10, messages=HELLO)
    assert message.model == "claude-haiku-4-5-20251001"


@pytest.mark.parametrize(("kind", "exc", "status", "error_type"), [
    ("rate_limit", anthropic.RateLimitError, 429, "rate_limit_error"),
    ("overloaded", anthropic.OverloadedError, 529, "overloaded_error"),
    ("api_error", anthropic.InternalServerError, 500, "api_error"),
])
async def test_injected_status_faults(sim: Simulator, client: anthropic.AsyncAnthropic, kind: str,
                                      exc: type, status: int, error_type: str) -> None:
    sim.inject(kind, count=2, retry_after=3)
    for stream in (False, True):
        with pytest.raises(exc) as info:
            if stream:
                async with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as s:
                    await s.get_final_message()
            else:
                await client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
        assert info.value.status_code == status
        assert info.value.type == error_type
        assert info.value.request_id.startswith("req_")
        if kind == "rate_limit":
            assert info.value.response.headers["retry-after"] == "3"
    await client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)  # the injection is used up
    assert [r.fault for r in sim.request_log] == [kind, kind, None]


async def test_mid_stream_error_event(sim: Simulator, client: anthropic.AsyncAnthropic) -> None:
    sim.inject("stream_error", after_tokens=10)
    text: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as info:
        async with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
            async for chunk in stream.text_stream:
                text.append(chunk)
    assert type(info.value) is anthropic.APIStatusError
    assert info.value.status_code == 200
    assert info.value.type == "overloaded_error"
    assert 1 <= len(text) <= 10 and "".join(text)


async def test_disconnect_raises_httpx_remote_protocol_error(sim: Simulator, client: anthropic.AsyncAnthropic) -> None:
    sim.inject("disconnect", after_tokens=10)
    text: list[str] = []
    # SDK ≤ 2.16 lets the raw httpx2 error through; 2.17 wraps it in APIConnectionError (its __cause__)
    with pytest.raises((httpx2.RemoteProtocolError, anthropic.APIConnectionError)) as exc:
        async with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
            async for chunk in stream.text_stream:
                text.append(chunk)
    root = exc.value if isinstance(exc.value, httpx2.RemoteProtocolError) else exc.value.__cause__
    assert isinstance(root, httpx2.RemoteProtocolError)  # the body was cut: an incomplete chunked read
    assert text
    assert sim.request_log[-1].outcome == "disconnect"


async def test_disconnect_before_response_is_api_connection_error(sim: Simulator,
                                                                  client: anthropic.AsyncAnthropic) -> None:
    sim.inject("disconnect", after_tokens=0)
    with pytest.raises(anthropic.APIConnectionError):
        await client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)


async def test_truncate_gives_stop_reason_none(sim: Simulator, client: anthropic.AsyncAnthropic) -> None:
    sim.inject("truncate", after_tokens=10)
    events = []
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        async for event in stream:
            events.append(event.type)
        message = await stream.get_final_message()
    assert message.stop_reason is None  # raised nothing: only a missing message_stop tells
    assert "message_stop" not in events and "text" in events
    assert message.content[0].text


async def test_stall_sends_no_bytes_for_stall_seconds(make_sim) -> None:
    sim = await make_sim(stall_seconds=1.0, ping_seconds=0.2, tps=200)
    sim.inject("stall", after_tokens=5)
    arrivals: list[float] = []
    kinds: list[str] = []
    async with client_for(sim) as c:
        stream = await c.messages.create(model=MODEL, max_tokens=100, messages=HELLO, stream=True)
        async for event in stream:
            arrivals.append(time.monotonic())
            kinds.append(event.type)
    assert kinds[-1] == "message_stop"  # after the stall the stream resumes and completes
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert max(gaps) >= 0.95  # no bytes at all (not even pings) while stalled
    assert kinds[gaps.index(max(gaps))] == "content_block_delta"  # it stalled mid-text
    assert sim.request_log[-1].outcome == "stall"
    assert sim.request_log[-1].output_tokens == 60


async def test_random_faults_follow_the_rates(make_sim) -> None:
    sim = await make_sim(faults={"overloaded": 1.0})
    async with client_for(sim) as c:
        for _ in range(3):
            with pytest.raises(anthropic.OverloadedError):
                await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert sim.stats.status_counts == {529: 3}


async def test_stall_trips_the_clients_read_timeout(make_sim) -> None:
    sim = await make_sim(stall_seconds=5)
    sim.inject("stall", after_tokens=5)
    text: list[str] = []
    async with client_for(sim, timeout=0.3) as c:
        # mid-stream: raw httpx2 in SDK ≤ 2.16, APITimeoutError (caused by it) in 2.17
        with pytest.raises((httpx2.ReadTimeout, anthropic.APITimeoutError)) as exc:
            async with c.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
                async for chunk in stream.text_stream:
                    text.append(chunk)
        root = exc.value if isinstance(exc.value, httpx2.ReadTimeout) else exc.value.__cause__
        assert isinstance(root, httpx2.ReadTimeout)
    assert text
