"""One attempt: one streaming call through the SDK, turned into engine events.

A stream that ends without `message_stop`, an `error` event, a dropped connection, a stall (no byte
for ``stall_timeout`` seconds) or an attempt past ``attempt_timeout`` seconds in all is a failed
attempt; the text it streamed is kept on the raised AttemptError.

We read the raw server-sent events (``messages.with_streaming_response`` and
``AsyncStream.raw_events``) and parse each event's JSON ourselves, rather than the SDK's typed events:
the SDK's typed model for a text delta cost ~50 µs to build against ~6 µs for ``json.loads`` (timeit),
and the ``messages.stream()`` helper on top rebuilt a snapshot of the whole message on every event
(15–25 % of the client's CPU in the scaling benchmark). Measured (``bench --scenario scaling
--concurrency 20 --requests 400``, 4 runs each, alternating, shared machine, load average 3–12):
client CPU per request 6.4–8.8 ms (mean 7.4) with typed events, 5.8–6.7 ms (mean 6.3) with raw ones.
Raw events keep the SDK's status errors (raised before the body is read) and let the stall timer see
pings.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .errors import AttemptError, classify, stream_error
from .events import FirstToken, JobEvent, RateLimits, Started, TextDelta, ThinkingDelta, Usage, UsageUpdate
from .job import Job
from .ratelimits import parse_rate_limits
from .redact import redact

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

    from .transport import ByteClock

Emit = Callable[[JobEvent], None]


@dataclass(slots=True)
class AttemptState:
    """What the current attempt has produced so far; read by the pool when a job is cancelled."""

    number: int
    started: float
    first_token: float | None = None
    text_parts: list[str] = field(default_factory=list)
    thinking_parts: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    request_id: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def thinking(self) -> str:
        return "".join(self.thinking_parts)


@dataclass(frozen=True, slots=True)
class AttemptResult:
    text: str
    thinking: str
    usage: Usage
    stop_reason: str | None
    model: str
    request_id: str | None
    started: float
    first_token: float | None
    finished: float


def _usage(raw: Any, previous: Usage) -> Usage:
    """Merge a usage object (the event's JSON) from message_start or message_delta (cumulative) into what we had."""
    if not isinstance(raw, dict):
        return previous

    def pick(name: str, old: int, source: Any = raw) -> int:
        value = source.get(name) if isinstance(source, dict) else None
        return old if value is None else int(value)

    split = raw.get("cache_creation")
    return Usage(
        input_tokens=pick("input_tokens", previous.input_tokens),
        output_tokens=pick("output_tokens", previous.output_tokens),
        cache_creation_input_tokens=pick("cache_creation_input_tokens", previous.cache_creation_input_tokens),
        cache_read_input_tokens=pick("cache_read_input_tokens", previous.cache_read_input_tokens),
        # the 5m / 1h split of the writes: in message_start only (message_delta's usage has none)
        ephemeral_5m_input_tokens=pick("ephemeral_5m_input_tokens", previous.ephemeral_5m_input_tokens, split),
        ephemeral_1h_input_tokens=pick("ephemeral_1h_input_tokens", previous.ephemeral_1h_input_tokens, split),
    )


class _Watchdog:
    """Ends an attempt with no byte for ``stall`` seconds, or running past ``limit`` seconds in all.

    Bytes, not events: ``clock`` is stamped by the response body on every chunk, pings included (the
    SDK drops pings, so an event-fed timer cut off streams that ping while a long thinking block is
    prepared). The limit ends a server that pings forever and never finishes. The watchdog wakes only
    at its next deadline and then reads the stamp, instead of re-arming a timer on every chunk; when
    it fires it expires ``timeout`` (an ``asyncio.timeout``), which cancels the attempt cleanly.
    """

    __slots__ = ("_timeout", "_clock", "_stall", "_end", "_handle", "reason")

    def __init__(self, timeout: asyncio.Timeout, clock: ByteClock, stall: float | None, limit: float | None) -> None:
        self._timeout = timeout
        self._clock = clock
        self._stall = stall
        self._end = clock.last + limit if limit is not None else None
        self._handle: asyncio.TimerHandle | None = None
        self.reason: str | None = None  # "stall" or "limit" once it fired
        self._arm(clock.last)

    def _arm(self, now: float) -> None:
        due = [d for d in (self._end, self._clock.last + self._stall if self._stall is not None else None) if d is not None]
        if due:
            self._handle = asyncio.get_running_loop().call_later(max(0.0, min(due) - now), self._check)

    def _check(self) -> None:
        now = time.monotonic()
        if self._stall is not None and now - self._clock.last >= self._stall:
            self.reason = "stall"
        elif self._end is not None and now >= self._end:
            self.reason = "limit"
        else:
            self._arm(now)
            return
        self._timeout.reschedule(asyncio.get_running_loop().time())  # expire now

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


async def run_attempt(
    client: "AsyncAnthropic",
    job: Job,
    state: AttemptState,
    emit: Emit,
    *,
    stall_timeout: float | None,
    attempt_timeout: float | None = None,
    wants_deltas: Callable[[], bool] | None = None,
) -> AttemptResult:
    """Stream one attempt, emitting events; return the result or raise AttemptError.

    ``wants_deltas()`` False: no ``TextDelta``/``ThinkingDelta`` is built for this piece (nobody
    would hear it; the text is kept all the same). Asked per piece, so a late subscriber is heard."""
    # Loaded with the client already; the engine's modules must load without the SDK or httpx
    # (`claude-tui --version` imports them).
    from anthropic import AsyncStream

    from .transport import ByteClock, StampedBody

    now = time.monotonic
    job_id = job.id
    emit(Started(job_id, state.started, state.number))
    stop_reason: str | None = None
    model = job.model
    saw_stop = False
    loads = json.loads
    clock = ByteClock()
    watchdog: _Watchdog | None = None
    answered = False  # once the server has answered, a dropped connection is a disconnect, not "nothing answered"
    try:
        async with asyncio.timeout(None) as deadline:
            watchdog = _Watchdog(deadline, clock, stall_timeout, attempt_timeout)
            async with client.messages.with_streaming_response.create(**job.request_params(), stream=True) as raw:
                answered = True
                response = raw.http_response
                headers = response.headers
                if headers.get("content-type", "").startswith("text/html"):  # a proxy, a portal, a wrong URL
                    raise AttemptError("not_api", "ANTHROPIC_BASE_URL answered with an HTML page, not the Anthropic API",
                                       status_code=response.status_code)
                snapshot = parse_rate_limits(headers)
                state.request_id = snapshot.request_id
                emit(RateLimits(job_id, now(), snapshot))
                async for sse in AsyncStream.raw_events(StampedBody(response, clock)):  # type: ignore[arg-type]
                    try:
                        kind = sse.event
                        if kind == "content_block_delta":
                            delta = loads(sse.data)["delta"]
                            delta_type = delta["type"]
                            factory: type[TextDelta] | type[ThinkingDelta]
                            if delta_type == "text_delta":
                                piece = delta["text"]
                                target = state.text_parts
                                factory = TextDelta
                            elif delta_type == "thinking_delta":
                                piece = delta["thinking"]
                                target = state.thinking_parts
                                factory = ThinkingDelta
                            else:
                                continue
                            at = now()
                            if state.first_token is None:
                                state.first_token = at
                                emit(FirstToken(job_id, at, at - state.started, state.number))
                            target.append(piece)
                            if wants_deltas is None or wants_deltas():
                                emit(factory(job_id, at, piece))
                        elif kind == "message_start":
                            message = loads(sse.data)["message"]
                            model = message.get("model") or model
                            state.usage = _usage(message.get("usage"), state.usage)
                            emit(UsageUpdate(job_id, now(), state.usage))
                        elif kind == "message_delta":
                            data = loads(sse.data)
                            stop_reason = data["delta"].get("stop_reason")
                            state.usage = _usage(data.get("usage"), state.usage)
                            emit(UsageUpdate(job_id, now(), state.usage))
                        elif kind == "message_stop":
                            saw_stop = True
                        elif kind == "error":
                            raise stream_error(sse.data)
                        # ping, content_block_start/stop and unknown events: nothing to do (their bytes
                        # already reset the stall timer)
                    except (KeyError, TypeError, AttributeError) as exc:  # an event without the fields the protocol gives it
                        raise AttemptError("protocol", f"the stream sent an event of an unexpected shape ({type(exc).__name__}: {exc})") from exc
    except AttemptError as error:
        raise _with_partial(error, state, client) from None
    except TimeoutError as exc:
        reason = watchdog.reason if watchdog is not None else None
        if reason == "stall":
            raise _with_partial(AttemptError("stall", f"no data for {stall_timeout:g} s: the stream stalled"), state, client) from None
        if reason == "limit":
            raise _with_partial(AttemptError(
                "timeout", f"no end of reply after {attempt_timeout:g} s (the attempt limit, --attempt-timeout): "
                "the server kept the stream open without finishing it"), state, client) from None
        raise _with_partial(classify(exc), state, client) from exc
    except Exception as exc:  # noqa: BLE001 - everything an attempt raises becomes a classified failure
        failure = classify(exc)
        if answered and failure.kind == "connection":  # the SDK wraps some drops after the answer as APIConnectionError
            failure = AttemptError("disconnect", f"connection dropped mid-reply ({type(exc).__name__})")
        raise _with_partial(failure, state, client) from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
    if not saw_stop:
        raise _with_partial(AttemptError("truncated", "the stream ended before message_stop: reply interrupted"), state, client)
    if stop_reason is None:  # message_stop without a message_delta: the protocol never said it was whole
        raise _with_partial(AttemptError("truncated", "the stream ended without a stop_reason: reply interrupted"), state, client)
    return AttemptResult(
        text=state.text,
        thinking=state.thinking,
        usage=state.usage,
        stop_reason=stop_reason,
        model=model,
        request_id=state.request_id,
        started=state.started,
        first_token=state.first_token,
        finished=now(),
    )


def _with_partial(error: AttemptError, state: AttemptState, client: "AsyncAnthropic") -> AttemptError:
    """Attach what streamed, and redact the key: a server may echo the request's headers in its error,
    and this message reaches the results file, the console, the UI, the history and the log."""
    error.message = redact(error.message, (client.api_key,))
    error.partial_text = state.text
    error.partial_thinking = state.thinking
    error.usage = state.usage
    if error.request_id is None:
        error.request_id = state.request_id
    return error
