"""Every wait is bounded, every retry loop ends, and a reply is whole only when the protocol says so.

A small scripted HTTP server over loopback plays the hostile or broken server each case needs (the
simulator is faithful on purpose, so it cannot send an `inf` retry-after or an HTML page). It is a
real server: the real SDK talks to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any, Awaitable, Callable

import pytest
from aiohttp import web

from claude_tui.engine.events import AttemptFailed, Done, Failed, JobEvent
from claude_tui.engine.job import Job
from claude_tui.engine.pool import RequestPool
from claude_tui.engine.ratelimits import parse_retry_after
from claude_tui.engine.retry import RetryPolicy

KEY = "sk-ant-api03-SECRETSECRETSECRET-abcdef"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Scripted:
    """A loopback server whose /v1/messages answers with ``handler``; counts the requests."""

    def __init__(self, handler: Handler, port: int | None = None) -> None:
        self.handler = handler
        self.port = port or _free_port()
        self.requests = 0
        self._runner: web.AppRunner | None = None

    async def _route(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        return await self.handler(request)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._route)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _error(status: int, headers: dict[str, str] | None = None, message: str = "try later") -> web.Response:
    kind = {429: "rate_limit_error", 503: "api_error", 529: "overloaded_error", 400: "invalid_request_error"}[status]
    return web.json_response({"type": "error", "error": {"type": kind, "message": message}}, status=status, headers=headers)


def _sse(*events: dict[str, Any], raw: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    out = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)
    return out + b"".join(raw)


START = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
                                              "content": [], "stop_reason": None, "stop_sequence": None,
                                              "usage": {"input_tokens": 5, "output_tokens": 1}}}
BLOCK = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
DELTA = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello there"}}
BLOCK_STOP = {"type": "content_block_stop", "index": 0}
MESSAGE_DELTA = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 3}}
STOP = {"type": "message_stop"}


def _stream(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="text/event-stream")


@pytest.fixture
async def scripted():
    servers: list[Scripted] = []
    pools: list[RequestPool] = []

    async def factory(handler: Handler, *, start: bool = True, **pool_kwargs: Any) -> tuple[Scripted, RequestPool, list[JobEvent]]:
        server = Scripted(handler)
        if start:
            await server.start()
        servers.append(server)
        pool_kwargs.setdefault("policy", RetryPolicy(max_attempts=5, base=0.05, cap=0.2, rate_limit_patience=600))
        pool = RequestPool(api_key=KEY, base_url=server.base_url, stall_timeout=5.0, **pool_kwargs)
        pools.append(pool)
        events: list[JobEvent] = []
        pool.add_listener(events.append)
        return server, pool, events

    yield factory
    for pool in pools:
        await pool.aclose()
    for server in servers:
        await server.stop()


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-3", "soon", "1e400"])
def test_retry_after_that_is_not_a_finite_non_negative_number_is_ignored(value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None
    assert parse_retry_after({"retry-after-ms": value}) is None
    assert parse_retry_after({"retry-after": "2.5"}) == 2.5 and parse_retry_after({"retry-after-ms": "250"}) == 0.25


async def test_retry_after_zero_on_every_429_is_not_a_hot_loop_and_ends(scripted) -> None:
    # It spends no attempt (a paced 429), so only the patience ends it: each wait is at least 0.5 s.
    server, pool, _ = await scripted(lambda r: _ret(_error(429, {"retry-after": "0"})),
                                     policy=RetryPolicy(max_attempts=5, base=0.05, cap=0.2, rate_limit_patience=3))
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 60)
    assert isinstance(outcome, Failed) and outcome.kind == "rate_limit"
    assert "over the 3 s patience" in outcome.message
    assert server.requests <= 3 / 0.5 + 1  # at most one request per 0.5 s of patience (was 3,223 in 60 s)


async def test_a_huge_retry_after_on_a_503_ends_the_job_at_once_with_a_clear_line(scripted) -> None:
    server, pool, _ = await scripted(lambda r: _ret(_error(503, {"retry-after": "100000000"})))
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 30)
    assert isinstance(outcome, Failed)
    assert "server asked to wait 27777.8 h (retry-after); over the 600 s patience" in outcome.message
    assert server.requests == 1


async def test_an_infinite_retry_after_on_a_529_is_treated_as_absent(scripted) -> None:
    server, pool, _ = await scripted(lambda r: _ret(_error(529, {"retry-after": "inf"})))
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 30)
    assert isinstance(outcome, Failed) and outcome.kind == "overloaded" and outcome.attempts == 5
    assert server.requests == 5


async def test_a_stream_without_a_stop_reason_is_interrupted_and_keeps_its_text(scripted) -> None:
    server, pool, events = await scripted(lambda r: _ret(_stream(_sse(START, BLOCK, DELTA, BLOCK_STOP, STOP))),
                                          policy=RetryPolicy(max_attempts=2, base=0.01, cap=0.02))
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 30)
    assert isinstance(outcome, Failed) and outcome.kind == "truncated" and outcome.retryable
    assert outcome.partial_text == "Hello there" and "stop_reason" in outcome.message
    assert server.requests == 2


async def test_a_whole_stream_is_still_a_success(scripted) -> None:
    _, pool, _ = await scripted(lambda r: _ret(_stream(_sse(START, BLOCK, DELTA, BLOCK_STOP, MESSAGE_DELTA, STOP))))
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 30)
    assert isinstance(outcome, Done) and outcome.text == "Hello there" and outcome.stop_reason == "end_turn"


async def test_an_html_page_is_named_and_not_retried(scripted) -> None:
    server, pool, _ = await scripted(lambda r: _ret(web.Response(text="<html><body>Sign in to the Wi-Fi</body></html>", content_type="text/html")))
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 30)
    assert isinstance(outcome, Failed) and outcome.kind == "not_api" and not outcome.retryable
    assert outcome.message == "ANTHROPIC_BASE_URL answered with an HTML page, not the Anthropic API"
    assert server.requests == 1


async def test_invalid_json_in_an_event_is_a_protocol_error(scripted) -> None:
    garbage = b"event: content_block_delta\ndata: {not json\n\n"
    _, pool, _ = await scripted(lambda r: _ret(_stream(_sse(START, BLOCK, raw=[garbage]))),
                                policy=RetryPolicy(max_attempts=2, base=0.01, cap=0.02))
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 30)
    assert isinstance(outcome, Failed) and outcome.kind == "protocol"


async def test_a_key_echoed_in_an_error_is_redacted_at_the_source(scripted) -> None:
    async def echo(request: web.Request) -> web.Response:
        return _error(400, message=f"bad request; headers were: {request.headers.get('x-api-key') or request.headers.get('authorization')}")

    _, pool, events = await scripted(echo)
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 30)
    assert isinstance(outcome, Failed) and "[REDACTED]" in outcome.message
    assert KEY not in outcome.message and all(KEY not in repr(e) for e in events)


async def test_a_server_down_for_a_while_loses_nothing(scripted) -> None:
    # More connection failures than max_attempts: they spend no attempt, only connect_patience.
    server, pool, events = await scripted(lambda r: _ret(_stream(_sse(START, BLOCK, DELTA, BLOCK_STOP, MESSAGE_DELTA, STOP))),
                                          start=False, policy=RetryPolicy(max_attempts=2, base=0.02, cap=0.1, connect_cap=0.2))
    handles = [pool.submit(Job.from_prompt(f"p{i}")) for i in range(3)]

    def refused() -> int:
        return sum(1 for e in events if isinstance(e, AttemptFailed) and e.kind == "connection")

    while refused() < 3 * 3:  # every job has failed to connect more often than max_attempts allows
        await asyncio.sleep(0.02)
    await server.start()
    outcomes = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 60)
    assert all(isinstance(o, Done) for o in outcomes)


async def _ret(response: web.StreamResponse) -> web.StreamResponse:
    return response
