"""Every wait is bounded, every retry loop ends, and a reply is whole only when the protocol says so.

A scripted HTTP server over loopback (tests/scripted_http.py, the ``scripted`` fixture) plays the hostile or broken server each case needs (the
simulator is faithful on purpose, so it cannot send an `inf` retry-after or an HTML page). It is a
real server: the real SDK talks to it over real HTTP.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from scripted_http import BLOCK, BLOCK_STOP, DELTA, KEY, MESSAGE_DELTA, START, STOP
from scripted_http import error_response as _error
from scripted_http import sse as _sse
from scripted_http import stream as _stream

from claude_tui.engine.events import AttemptFailed, Done, Failed
from claude_tui.engine.job import Job
from claude_tui.engine.ratelimits import parse_retry_after
from claude_tui.engine.retry import RetryPolicy


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
