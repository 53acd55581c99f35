"""One attempt: one streaming call through the SDK, turned into engine events.

A stream that ends without `message_stop`, an `error` event, a dropped connection or a stall
(no event for ``stall_timeout`` seconds) is a failed attempt; the text it streamed is kept
on the raised AttemptError.

We iterate the SDK's raw server-sent events (``messages.create(stream=True)``) rather than the
``messages.stream()`` helper: the helper rebuilds a snapshot of the whole message on every event,
which cost 15–25 % of the client's CPU per request in the scaling benchmark, and we keep our own
text anyway.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .errors import AttemptError, classify
from .redact import redact
from .events import FirstToken, JobEvent, RateLimits, Started, TextDelta, ThinkingDelta, Usage, UsageUpdate
from .job import Job
from .ratelimits import parse_rate_limits

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

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
    """Merge a usage object from message_start or message_delta (cumulative) into what we had."""
    if raw is None:
        return previous

    def pick(name: str, old: int, source: Any = raw) -> int:
        value = getattr(source, name, None)
        return old if value is None else int(value)

    split = getattr(raw, "cache_creation", None)
    return Usage(
        input_tokens=pick("input_tokens", previous.input_tokens),
        output_tokens=pick("output_tokens", previous.output_tokens),
        cache_creation_input_tokens=pick("cache_creation_input_tokens", previous.cache_creation_input_tokens),
        cache_read_input_tokens=pick("cache_read_input_tokens", previous.cache_read_input_tokens),
        # the 5m / 1h split of the writes: in message_start only (message_delta's usage has none)
        ephemeral_5m_input_tokens=pick("ephemeral_5m_input_tokens", previous.ephemeral_5m_input_tokens, split),
        ephemeral_1h_input_tokens=pick("ephemeral_1h_input_tokens", previous.ephemeral_1h_input_tokens, split),
    )


async def run_attempt(
    client: "AsyncAnthropic",
    job: Job,
    state: AttemptState,
    emit: Emit,
    *,
    stall_timeout: float | None,
) -> AttemptResult:
    """Stream one attempt, emitting events; return the result or raise AttemptError."""
    now = time.monotonic
    job_id = job.id
    emit(Started(job_id, state.started, state.number))
    stop_reason: str | None = None
    model = job.model
    saw_stop = False
    stall: asyncio.Timeout | None = None
    answered = False  # once the server has answered, a dropped connection is a disconnect, not "nothing answered"
    # The stall timer is pushed out to 1.5× the timeout only when fewer than 1× remain, so a stream
    # reschedules it every ~timeout/2 seconds instead of on every event; a stall is detected after
    # between 1× and 1.5× the timeout without data.
    slack = 1.5 * stall_timeout if stall_timeout is not None else None
    try:
        async with asyncio.timeout(slack) as stall:
            stream = await client.messages.create(**job.request_params(), stream=True)
            answered = True
            async with stream:
                headers = stream.response.headers
                if headers.get("content-type", "").startswith("text/html"):  # a proxy, a portal, a wrong URL
                    raise AttemptError("not_api", "ANTHROPIC_BASE_URL answered with an HTML page, not the Anthropic API",
                                       status_code=stream.response.status_code)
                snapshot = parse_rate_limits(headers)
                state.request_id = snapshot.request_id
                emit(RateLimits(job_id, now(), snapshot))
                async for event in stream:
                    if slack is not None:
                        at = now()
                        if stall.when() < at + stall_timeout:  # type: ignore[operator]
                            stall.reschedule(at + slack)
                    kind = event.type
                    if kind == "content_block_delta":
                        delta = event.delta
                        if delta.type == "text_delta":
                            piece = delta.text
                            target = state.text_parts
                            factory: type[TextDelta] | type[ThinkingDelta] = TextDelta
                        elif delta.type == "thinking_delta":
                            piece = delta.thinking
                            target = state.thinking_parts
                            factory = ThinkingDelta
                        else:
                            continue
                        at = now()
                        if state.first_token is None:
                            state.first_token = at
                            emit(FirstToken(job_id, at, at - state.started, state.number))
                        target.append(piece)
                        emit(factory(job_id, at, piece))
                    elif kind == "message_start":
                        model = event.message.model or model
                        state.usage = _usage(event.message.usage, state.usage)
                        emit(UsageUpdate(job_id, now(), state.usage))
                    elif kind == "message_delta":
                        stop_reason = event.delta.stop_reason
                        state.usage = _usage(event.usage, state.usage)
                        emit(UsageUpdate(job_id, now(), state.usage))
                    elif kind == "message_stop":
                        saw_stop = True
    except AttemptError as error:
        raise _with_partial(error, state, client) from None
    except TimeoutError as exc:
        if stall is not None and stall.expired():
            raise _with_partial(AttemptError("stall", f"no data for {stall_timeout:g} s: the stream stalled"), state, client) from None
        raise _with_partial(classify(exc), state, client) from exc
    except Exception as exc:  # noqa: BLE001 - everything an attempt raises becomes a classified failure
        failure = classify(exc)
        if answered and failure.kind == "connection":  # SDK 2.17 (httpx2) wraps a mid-stream drop as APIConnectionError
            failure = AttemptError("disconnect", f"connection dropped mid-reply ({type(exc).__name__})")
        raise _with_partial(failure, state, client) from exc
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
