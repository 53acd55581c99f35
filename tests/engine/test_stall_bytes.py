"""The stall timer counts bytes, not events, and no attempt runs forever.

The SDK drops `ping` events, so a timer that saw only SDK events cut off a stream that pings while a
long thinking block is prepared (the README promises "seconds without a byte"). The scripted server
(tests/scripted_http.py) writes each part of a stream when the test says so: the test
waits for conditions (pings counted on the server, events seen by the pool), never for time.
"""

from __future__ import annotations

import asyncio
from aiohttp import web
from scripted_http import BLOCK, BLOCK_STOP, DELTA, MESSAGE_DELTA, START, STOP, sse

from claude_tui.engine.events import AttemptFailed, Done, Failed
from claude_tui.engine.job import Job
from claude_tui.engine.retry import RetryPolicy


STALL = 0.5  # seconds: small, so each test is short
PING = b"event: ping\ndata: {\"type\": \"ping\"}\n\n"


class Pinger:
    """A stream handler: message_start, then a ping every ``STALL / 5`` s until told to finish (or forever)."""

    def __init__(self, *, pings_for: float | None) -> None:
        self.pings_for = pings_for  # seconds of pings before the reply; None: ping forever
        self.pings = 0
        self.finished = asyncio.Event()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(sse(START, BLOCK))
        loop = asyncio.get_running_loop()
        end = None if self.pings_for is None else loop.time() + self.pings_for
        try:
            while end is None or loop.time() < end:
                # The pacing of a server, not synchronisation: the test waits on what arrives.
                await asyncio.sleep(STALL / 5)
                await response.write(PING)
                self.pings += 1
            await response.write(sse(DELTA, BLOCK_STOP, MESSAGE_DELTA, STOP))
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):  # the client gave up on us
            pass
        self.finished.set()
        return response


async def test_pings_for_three_stall_timeouts_then_the_reply_succeed_on_the_first_attempt(scripted) -> None:
    pinger = Pinger(pings_for=3 * STALL)
    server, pool, events = await scripted(pinger, stall_timeout=STALL)
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("think hard")).result(), 60)
    assert isinstance(outcome, Done), outcome
    assert outcome.text == "Hello there" and outcome.attempts == 1
    assert server.requests == 1 and pinger.pings >= 10  # ~15 pings: 3 stall timeouts with nothing but pings
    assert not [e for e in events if isinstance(e, AttemptFailed)]


async def test_a_silent_stream_is_still_a_stall(scripted) -> None:
    release = asyncio.Event()

    async def silent(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(sse(START, BLOCK, DELTA))
        await release.wait()  # no byte, no ping, until the test ends
        return response

    server, pool, events = await scripted(silent, stall_timeout=STALL, policy=RetryPolicy(max_attempts=2, base=0.01, cap=0.02))
    try:
        outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 60)
    finally:
        release.set()
    assert isinstance(outcome, Failed) and outcome.kind == "stall" and outcome.attempts == 2
    assert "no data for 0.5 s" in outcome.message
    assert outcome.partial_text == "Hello there"  # what streamed before the stall is kept
    assert server.requests == 2


async def test_a_stream_that_pings_forever_ends_at_the_attempt_limit(scripted) -> None:
    pinger = Pinger(pings_for=None)
    limit = 4 * STALL
    server, pool, events = await scripted(
        pinger, stall_timeout=STALL, policy=RetryPolicy(max_attempts=2, base=0.01, cap=0.02, attempt_timeout=limit))
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 60)
    assert isinstance(outcome, Failed) and outcome.kind == "timeout" and outcome.retryable
    assert outcome.message.startswith("no end of reply after 2 s")
    assert "attempt limit" in outcome.message and "--attempt-timeout" in outcome.message
    assert outcome.attempts == 2 and server.requests == 2
    # Each attempt ran to the limit: the pings kept it from being cut off as a stall first.
    failures = [e for e in events if isinstance(e, AttemptFailed)]
    assert len(failures) == 2 and all(f.ended - f.started >= limit for f in failures)


async def test_a_gzip_encoded_event_stream_is_still_decoded(scripted) -> None:
    """Plain event streams skip httpx's decoders (engine/transport.StampedBody); an encoded one must not."""
    import gzip

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(sse(START, BLOCK, DELTA, BLOCK_STOP, MESSAGE_DELTA, STOP))
        return web.Response(body=body, headers={"content-type": "text/event-stream", "content-encoding": "gzip"})

    server, pool, events = await scripted(gzipped, stall_timeout=STALL)
    outcome = await asyncio.wait_for(pool.submit(Job.from_prompt("hi")).result(), 60)
    assert isinstance(outcome, Done), outcome
    assert outcome.text == "Hello there" and outcome.attempts == 1
