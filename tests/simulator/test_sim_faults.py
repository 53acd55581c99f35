"""Every fault kind the API has, seen through the unmodified SDK, and errors raised before a route."""

from __future__ import annotations

import aiohttp
import anthropic
import httpx2
import pytest
from sim_helpers import HELLO, MODEL, client_for

from claude_tui.engine.events import Failed
from claude_tui.engine.pool import RequestPool
from claude_tui.engine.job import Job
from claude_tui.engine.retry import RetryPolicy
from claude_tui.simulator import Simulator, parse_faults


@pytest.mark.parametrize(("kind", "exc", "status", "error_type"), [
    ("spend_limit", anthropic.RateLimitError, 429, "rate_limit_error"),
    ("billing", anthropic.PaymentRequiredError, 402, "billing_error"),
    ("permission", anthropic.PermissionDeniedError, 403, "permission_error"),
    ("timeout", anthropic.RequestTimeoutError, 408, "timeout_error"),
    ("conflict", anthropic.ConflictError, 409, "conflict_error"),
    ("unavailable", anthropic.ServiceUnavailableError, 503, "api_error"),
    ("gateway_timeout", anthropic.GatewayTimeoutError, 504, "timeout_error"),
])
async def test_status_fault_kinds(sim: Simulator, client: anthropic.AsyncAnthropic, kind: str,
                                  exc: type, status: int, error_type: str) -> None:
    sim.inject(kind, count=2)
    for stream in (False, True):
        with pytest.raises(exc) as info:
            if stream:
                async with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as s:
                    await s.get_final_message()
            else:
                await client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
        assert info.value.status_code == status and info.value.type == error_type
        assert info.value.request_id and info.value.request_id.startswith("req_")
        assert info.value.body["request_id"] == info.value.request_id  # type: ignore[index]
    assert [r.fault for r in sim.request_log] == [kind, kind]


async def test_spend_limit_is_never_retried(sim: Simulator) -> None:
    sim.inject("spend_limit", count=5)
    async with anthropic.AsyncAnthropic(api_key="k", base_url=sim.base_url) as c:  # the SDK's own retries on
        with pytest.raises(anthropic.RateLimitError) as info:
            await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert type(info.value).__name__ == "EnforcedSpendLimitReachedError"
    assert info.value.body["error"]["details"] == {"error_code": "enforced_spend_limit_reached"}  # type: ignore[index]
    assert len(sim.request_log) == 1
    pool = RequestPool(api_key="k", base_url=sim.base_url, policy=RetryPolicy(max_attempts=5, base=0.01, cap=0.05))
    try:
        result = await pool.submit(Job.from_prompt("hello", max_tokens=10)).result()
    finally:
        await pool.aclose()
    assert isinstance(result, Failed) and result.kind == "spend_limit" and result.attempts == 1
    assert result.request_id and not result.retryable
    assert len(sim.request_log) == 2


async def test_reset_mid_stream(sim: Simulator, client: anthropic.AsyncAnthropic) -> None:
    sim.inject("reset", after_tokens=5)
    text: list[str] = []
    with pytest.raises((httpx2.ReadError, httpx2.RemoteProtocolError, anthropic.APIConnectionError)):
        async with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as s:
            async for piece in s.text_stream:
                text.append(piece)
    assert text  # some text came before the reset
    sim.inject("reset")
    with pytest.raises(anthropic.APIConnectionError):
        await client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)
    assert [r.outcome for r in sim.request_log] == ["reset", "reset"]


async def test_blackhole_ends_only_by_the_clients_timeout(sim: Simulator) -> None:
    sim.inject("blackhole", count=2)
    async with client_for(sim, timeout=httpx2.Timeout(0.5)) as c:
        with pytest.raises(anthropic.APITimeoutError):
            await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
        with pytest.raises((anthropic.APITimeoutError, httpx2.ReadTimeout)):
            async with c.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as s:
                await s.get_final_message()
    log = sim.request_log
    assert [r.fault for r in log] == ["blackhole", "blackhole"] and all(r.status is None for r in log)


@pytest.mark.parametrize("kind", ["refusal", "pause_turn"])
async def test_stop_reason_faults(sim: Simulator, client: anthropic.AsyncAnthropic, kind: str) -> None:
    sim.inject(kind, count=2, after_tokens=7)
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as s:
        message = await s.get_final_message()
    assert message.stop_reason == kind and message.usage.output_tokens == 7
    whole = await client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)
    assert whole.stop_reason == kind and whole.usage.output_tokens == 7


def test_new_kinds_by_rate() -> None:
    rates = parse_faults("spend_limit=0.1,billing=0.1,reset=0.1,blackhole=0.05,refusal=0.1,pause-turn=0.1")
    assert rates["pause_turn"] == 0.1


async def _raw(sim: Simulator, method: str, path: str, data: bytes | None = None) -> tuple[int, dict, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, sim.base_url + path, data=data,
                                   headers={"x-api-key": "k", "anthropic-version": "2023-06-01"}) as resp:
            return resp.status, await resp.json(), dict(resp.headers)


@pytest.mark.parametrize(("method", "path", "status", "error_type"), [
    ("GET", "/v1/nothing", 404, "not_found_error"),
    ("GET", "/v1/messages", 405, "invalid_request_error"),
])
async def test_errors_before_the_route(sim: Simulator, method: str, path: str, status: int, error_type: str) -> None:
    got, body, headers = await _raw(sim, method, path)
    assert got == status and body["type"] == "error" and body["error"]["type"] == error_type
    assert headers["request-id"].startswith("req_") and body["request_id"] == headers["request-id"]


async def test_too_large_is_request_too_large(sim: Simulator) -> None:
    status, body, headers = await _raw(sim, "POST", "/v1/messages", b"x" * (32 * 1024 * 1024 + 1))
    assert status == 413 and body["error"]["type"] == "request_too_large"
    assert body["request_id"] == headers["request-id"]
    async with client_for(sim) as c:
        with pytest.raises(anthropic.ContentTooLargeError) as info:
            await c.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "y" * (33 * 1024 * 1024)}])
    assert info.value.request_id
