"""The aiohttp routes: /v1/messages (stream and not), count_tokens and the model list.

A request goes: auth → JSON → validation (400/404) → fault (forced, then random) → rate
limits (429) → reply. Streams send ``message_start`` at once, pings while "thinking", then
deltas on a token clock; writes are batched so a fast stream costs little CPU per token.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import socket
import string
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web

from . import models, replies, sse, tools
from .cache import CacheUsage, PromptCache
from .config import PRE_RESPONSE_FAULTS, STATUS_FAULTS, STOP_FAULTS, SimulatorConfig
from .faults import Fault, FaultPlan
from .ratelimit import Admission, RateLimiter, itpm_cost
from .stats import RequestRecord, StatsRecorder
from .request_errors import RequestError
from .validation import (check_auth, check_version, estimate_input_tokens, parse_json,
                         validate_body)

_ALPHABET = string.ascii_letters + string.digits
MIN_TICK = 0.01  # never sleep less than this between writes: batches ~10 ms of tokens per write


def _asked(body: dict[str, Any]) -> tuple[int | None, str | None, int | None]:
    """max_tokens, the system prompt's text and the thinking budget a (validated) body asked for."""
    system = body.get("system")
    if isinstance(system, list):
        system = "".join(b.get("text", "") for b in system if isinstance(b, dict))
    thinking = body.get("thinking")
    budget = thinking.get("budget_tokens") if isinstance(thinking, dict) and thinking.get("type") == "enabled" else None
    return body.get("max_tokens"), system if isinstance(system, str) else None, budget


def _new_id(prefix: str) -> str:
    return prefix + "011C" + "".join(secrets.choice(_ALPHABET) for _ in range(20))


class SimState:
    """Everything the routes share: config, limiter, faults, stats, timing RNG."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.limiter = RateLimiter(config.rpm, config.itpm, config.otpm, config.burst)
        self.faults = FaultPlan(config.faults, config.seed)
        self.stats = StatsRecorder()
        self.cache = PromptCache()
        self._timing_lock = threading.Lock()
        self._timing_rng = random.Random(f"timing:{config.seed}")
        self.handlers: set[asyncio.Task[Any]] = set()  # running /v1/messages handlers, cancelled on stop
        self.hold: ReplyHold | None = None  # test hook: streamed replies pause until released
        self.keep_bodies = False  # test hook: the request log keeps each request's messages and system

    def jitter(self) -> tuple[float, float]:
        """Two factors in [1-jitter, 1+jitter]: one for TTFT, one for tokens/s."""
        j = self.config.jitter
        with self._timing_lock:
            return self._timing_rng.uniform(1 - j, 1 + j), self._timing_rng.uniform(1 - j, 1 + j)

    def draw(self, a: int, b: int) -> int:
        with self._timing_lock:
            return self._timing_rng.randint(a, b)


@dataclass(slots=True)
class ReplyHold:
    """Streamed replies stop after their thinking and ``after_tokens`` text tokens (pinging) until ``released`` is set.

    A test that needs a reply to be "still streaming" when it acts waits for this, not for a reply
    long enough to outlast it: on a busy CI a 20 s reply ended before the test's next key arrived.
    """

    after_tokens: int
    released: asyncio.Event


@dataclass(slots=True)
class Clock:
    """When token k (1-based) of a reply is ready: ``t_first + (k-1) * interval`` (loop time)."""

    t_first: float
    interval: float  # 0 = every token at once

    def ready(self, now: float) -> int:
        if now < self.t_first:
            return 0
        if self.interval <= 0:
            return 1 << 60
        return int((now - self.t_first) / self.interval + 1e-9) + 1

    def due(self, k: int) -> float:
        return self.t_first + max(0, k - 1) * self.interval


@dataclass(slots=True)
class Reply:
    message_id: str
    model: str
    input_tokens: int
    thinking: list[str] | None
    signature: str
    text: list[str]
    stop_reason: str
    clock: Clock
    chunk_seed: int = 0  # how the tokens are grouped into deltas, fixed by the request
    stop_sequence: str | None = None
    tool_calls: list[tools.ToolCall] = field(default_factory=list)  # tool_use blocks after the text (stop_reason tool_use)
    cache: CacheUsage = field(default_factory=CacheUsage)
    service_tier: str = "standard"

    @property
    def output_tokens(self) -> int:
        return (len(self.text) + (len(self.thinking) if self.thinking else 0)
                + sum(len(call.json_tokens) for call in self.tool_calls))


def plan_reply(state: SimState, body: dict[str, Any], input_tokens: int, received: float,
               cache: CacheUsage | None = None) -> Reply:
    """Decide the reply's content (deterministic for seed + request) and its timing.

    ``input_tokens`` is the uncached rest of the prompt; ``cache`` what was read and written.
    """
    cfg = state.config
    rng = replies.request_rng(cfg.seed, body)
    max_tokens: int = body["max_tokens"]
    n_text = replies.draw_length(rng, cfg.reply_tokens, cfg.fixed_length)
    chosen, forced = tools.choose(rng, body)
    calls = [tools.make_call(rng, tool) for tool in chosen]
    if calls:
        # forced (any / tool): the API prefills the call, so no text comes before it
        n_text = 0 if forced else min(n_text, rng.randint(8, 20))
    thinking_cfg = body.get("thinking") or {}
    thinking: list[str] | None = None
    sig = ""
    if thinking_cfg.get("type") in ("enabled", "adaptive"):
        budget = thinking_cfg.get("budget_tokens") or max(1, max_tokens // 2)
        n_think = min(budget, max_tokens - 1, max(16, round(n_text * rng.uniform(0.3, 0.8))))
        thinking = replies.thinking_tokens(rng, max(1, n_think), body)
        sig = replies.signature(rng)
    room = max_tokens - (len(thinking) if thinking else 0)
    call_tokens = sum(len(call.json_tokens) for call in calls)
    if calls and not forced and n_text + call_tokens > room:
        calls, call_tokens = [], 0  # no room for the calls: answer in text (forced calls are sent whole regardless)
    room -= call_tokens
    stop_reason = "end_turn"
    if n_text >= room:
        stop_reason = "max_tokens" if n_text > room else "end_turn"
        n_text = max(room, 0)
    if calls and n_text:  # a sentence saying what it is about to call, as the model does before a call
        text = replies.preface_tokens(rng, n_text, [call.name for call in calls])
    else:
        text = replies.reply_tokens(rng, n_text, body, clean_end=stop_reason == "end_turn") if n_text else []
    stop_sequence = None
    if body.get("stop_sequences") and text:
        stop_sequence = _apply_stop_sequences(text, body["stop_sequences"])
        if stop_sequence is not None:
            stop_reason = "stop_sequence"
            calls = []  # generation stopped in the text, before the calls
    if calls:
        stop_reason = "tool_use"

    n = len(text) + (len(thinking) if thinking else 0) + sum(len(call.json_tokens) for call in calls)
    if cfg.fixed_latency_ms is not None:
        total = cfg.fixed_latency_ms / 1000
        ttft = min(cfg.ttft_ms / 1000, total) if n > 1 else total
        interval = (total - ttft) / (n - 1) if n > 1 else 0.0
    else:
        f_ttft, f_tps = state.jitter()
        ttft = cfg.ttft_ms / 1000 * f_ttft
        interval = 1.0 / (cfg.tps * f_tps) if cfg.tps > 0 else 0.0
    return Reply(_new_id("msg_"), body["model"], input_tokens, thinking, sig, text, stop_reason,
                 Clock(received + ttft, interval), rng.getrandbits(32), stop_sequence, calls,
                 cache or CacheUsage(), "standard")


def _apply_stop_sequences(tokens: list[str], stops: list[str]) -> str | None:
    """Cut ``tokens`` (in place) just before the first stop sequence; return the one that matched."""
    text = "".join(tokens)
    hits = [(text.find(seq), seq) for seq in stops if seq and seq in text]
    if not hits:
        return None
    pos, seq = min(hits)
    consumed = 0
    for i, tok in enumerate(tokens):
        if consumed + len(tok) > pos:
            # the token holding the stop sequence is generated (and billed) but not returned past it
            tokens[i] = tok[: pos - consumed]
            del tokens[i + 1:]
            break
        consumed += len(tok)
    return seq


def whole_message(reply: Reply, output_tokens: int) -> dict[str, Any]:
    """The non-streamed reply body (a /v1/messages answer, or a Message Batch item's message)."""
    content: list[dict[str, Any]] = []
    if reply.thinking:
        content.append({"type": "thinking", "thinking": "".join(reply.thinking), "signature": reply.signature})
    if reply.text or not reply.tool_calls:
        content.append({"type": "text", "text": "".join(reply.text)})
    for call in reply.tool_calls:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.input})
    return {"id": reply.message_id, "type": "message", "role": "assistant", "model": reply.model,
            "content": content, "stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence,
            "usage": _usage(reply, output_tokens)}


def _usage(reply: Reply, output_tokens: int, *, full: bool = True) -> dict[str, Any]:
    """Usage as the API reports it; ``full`` (message_start, the whole reply) adds the 5m/1h split and tier.

    ``input_tokens`` is only the uncached rest; the cache counts are their own fields.
    """
    cache = reply.cache
    usage: dict[str, Any] = {"input_tokens": reply.input_tokens, "cache_creation_input_tokens": cache.created,
                             "cache_read_input_tokens": cache.read, "output_tokens": output_tokens}
    if full:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": cache.created_5m,
                                   "ephemeral_1h_input_tokens": cache.created_1h}
        usage["service_tier"] = reply.service_tier
    return usage


def _chunks(tokens: list[str], rng: random.Random) -> list[tuple[str, int]]:
    """Group tokens into deltas of 1–4 tokens, as the API's stream does."""
    out: list[tuple[str, int]] = []
    i, n = 0, len(tokens)
    randint = rng.randint
    while i < n:
        size = randint(1, 4)
        part = tokens[i:i + size]
        text = "".join(part)
        if text or not out:
            out.append((text, len(part)))
        else:  # a token emptied by a stop sequence: billed, but no empty delta on the wire
            out[-1] = (out[-1][0], out[-1][1] + len(part))
        i += size
    return out


def stream_items(reply: Reply) -> tuple[list[tuple[int, bytes]], int]:
    """Every event after message_start, each with the token count that must be ready before it.

    Returns the items and the index of ``message_delta`` (where a stream fault must strike at
    the latest, so a faulted stream never carries message_delta / message_stop).
    """
    rng = random.Random(reply.chunk_seed)
    items: list[tuple[int, bytes]] = []
    k = 0
    index = 0
    if reply.thinking:
        items.append((1, sse.block_start(0, {"type": "thinking", "thinking": "", "signature": ""})))
        items.append((1, sse.PING))
        for text, size in _chunks(reply.thinking, rng):
            k += size
            items.append((k, sse.thinking_delta(0, text)))
        items.append((k, sse.signature_delta(0, reply.signature)))
        items.append((k, sse.block_stop(0)))
        index = 1
    if reply.text or not reply.tool_calls:
        items.append((max(k, 1), sse.block_start(index, {"type": "text", "text": ""})))
        if not reply.thinking:
            items.append((1, sse.PING))
        for text, size in _chunks(reply.text, rng):
            k += size
            items.append((k, sse.text_delta(index, text)))
        items.append((max(k, 1), sse.block_stop(index)))
        index += 1
    for n_call, call in enumerate(reply.tool_calls):  # parallel calls: one block each, in order
        items.append((max(k, 1), sse.block_start(index, {"type": "tool_use", "id": call.id, "name": call.name,
                                                         "input": {}})))
        if not n_call and not reply.thinking and not reply.text:
            items.append((1, sse.PING))
        items.append((max(k, 1), sse.input_json_delta(index, "")))  # the API's first delta is often empty
        for part, size in _chunks(call.json_tokens, rng):
            k += size
            items.append((k, sse.input_json_delta(index, part)))
        items.append((max(k, 1), sse.block_stop(index)))
        index += 1
    md_index = len(items)
    items.append((max(k, 1), sse.message_delta(reply.stop_reason, _usage(reply, k, full=False),
                                                         reply.stop_sequence)))
    items.append((max(k, 1), sse.MESSAGE_STOP))
    return items, md_index


class Routes:
    def __init__(self, state: SimState) -> None:
        self.state = state
        # request-id -> model class while a request runs, so every response's headers (errors
        # included) show that class's buckets without passing the model down every call
        self._classes: dict[str, str] = {}

    # -- helpers ----------------------------------------------------------------------------
    def _headers(self, request_id: str) -> dict[str, str]:
        """``request-id`` plus the rate-limit headers of the request's model class, once known."""
        headers = {"request-id": request_id}
        rate_class = self._classes.get(request_id)
        if rate_class is not None:
            headers.update(self.state.limiter.headers(rate_class))
        return headers

    def _error(self, status: int, error_type: str, message: str, request_id: str,
               extra: dict[str, str] | None = None, details: dict[str, str] | None = None) -> web.Response:
        headers = self._headers(request_id)
        if extra:
            headers.update(extra)
        return error_response(status, error_type, message, request_id, headers, details)

    async def _common(self, request: web.Request, *, require_max_tokens: bool) -> tuple[dict[str, Any], models.ModelInfo]:
        check_auth(request.headers, self.state.config.api_keys)
        version = check_version(request.headers)
        body = parse_json(await self._read_body(request))
        info = validate_body(body, version, require_max_tokens=require_max_tokens)
        return body, info

    async def _read_body(self, request: web.Request) -> bytes:
        """The body, or 408 once ``body_timeout`` passes (a client trickling bytes holds nothing forever)."""
        try:
            async with asyncio.timeout(self.state.config.body_timeout):
                return await request.read()
        except TimeoutError:
            raise RequestError(408, "timeout_error", "Request timed out: the request body was not "
                               f"received within {self.state.config.body_timeout:g} s") from None

    # -- POST /v1/messages --------------------------------------------------------------------
    async def messages(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        received = time.monotonic()
        request_id = _new_id("req_")
        retry_header = request.headers.get("x-stainless-retry-count")
        record = RequestRecord(request_id=request_id, received_at=received,
                               retry_count=int(retry_header) if retry_header and retry_header.isdigit() else None)
        state.stats.begin(record)
        task = asyncio.current_task()
        if task is not None:
            state.handlers.add(task)
        reserved: Admission | None = None
        try:
            try:
                body, info = await self._common(request, require_max_tokens=True)
            except RequestError as exc:
                return self._fail(record, exc.status, exc.error_type, exc.message)
            record.model = body["model"]
            record.max_tokens, record.system, record.thinking_budget = _asked(body)
            if state.keep_bodies:
                record.messages = body.get("messages")
            self._classes[request_id] = info.rate_class
            record.stream = bool(body.get("stream"))
            input_tokens = estimate_input_tokens(body)
            record.input_tokens = input_tokens
            if input_tokens > info.context_window:  # the API answers 400 "prompt is too long" past it
                return self._fail(record, 400, "invalid_request_error",
                                  f"prompt is too long: {input_tokens} tokens > {info.context_window} maximum")
            cache = state.cache.plan(body, input_tokens)
            uncached = input_tokens - cache.read - cache.created

            fault = state.faults.next()
            if fault is not None:
                record.fault = fault.kind
            if fault is not None and fault.kind in PRE_RESPONSE_FAULTS:
                return await self._pre_response_fault(record, fault)

            # ITPM counts uncached input + cache writes, not cache reads (rate-limits page)
            admission = state.limiter.admit(info.rate_class, itpm_cost(uncached, cache.created), body["max_tokens"])
            if not admission.ok:
                retry_after = max(1, math.ceil(admission.retry_after))
                group = admission.limited_by or "requests"
                message = (f"This request would exceed the rate limit for your organization of "
                           f"{self._limit_text(info.rate_class, group)}. For details, refer to: "
                           f"https://docs.claude.com/en/api/rate-limits. You can see the response headers "
                           f"for current usage. Please reduce the prompt length or the maximum tokens "
                           f"requested, or try again later.")
                record.retry_after = retry_after
                return self._fail(record, 429, "rate_limit_error", message, {"retry-after": str(retry_after)})
            reserved = admission
            state.cache.commit(cache)

            reply = plan_reply(state, body, uncached, asyncio.get_running_loop().time()
                               - (time.monotonic() - received), cache)
            reply.service_tier = "standard"  # `auto` and `standard_only` both run on standard here
            self._expect_refund(admission, reply)
            if fault is not None and fault.after_tokens is None:
                fault = Fault(fault.kind, fault.retry_after,
                              state.draw(1, max(1, reply.output_tokens // 2)), fault.injected)
            if fault is not None and fault.kind in STOP_FAULTS:
                fault = self._stop_early(reply, fault)
            if record.stream:
                return await self._stream(request, record, reply, fault)
            return await self._whole(request, record, reply, fault)
        except (asyncio.CancelledError, ConnectionError):
            record.outcome = "client_closed"  # the client went away first (aiohttp cancels the handler)
            raise
        finally:
            state.handlers.discard(task)
            record.finished_at = time.monotonic()
            self._classes.pop(request_id, None)
            if reserved is not None:
                state.limiter.settle_output(reserved, record.output_tokens)
            state.stats.end(record)

    def _limit_text(self, rate_class: str, group: str) -> str:
        limit = self.state.limiter.limit_of(rate_class, group)
        what = group.replace("-", " ")
        return f"{limit:,} {what} per minute" if limit is not None else f"{what} per minute"

    def _expect_refund(self, admission: Admission, reply: Reply) -> None:
        """Tell the limiter when this reply will end and how much of max_tokens it gives back, so a
        429's retry-after counts that refund (the reply's clock is loop time; the limiter's monotonic)."""
        finish = reply.clock.due(max(reply.output_tokens, 1)) - asyncio.get_running_loop().time() + time.monotonic()
        self.state.limiter.expect(admission, reply.output_tokens, finish)

    def _fail(self, record: RequestRecord, status: int, error_type: str, message: str,
              extra: dict[str, str] | None = None, details: dict[str, str] | None = None) -> web.Response:
        record.status = status
        record.error_type = error_type
        record.outcome = "error"
        return self._error(status, error_type, message, record.request_id, extra, details)

    async def _pre_response_fault(self, record: RequestRecord, fault: Fault) -> web.Response:
        if fault.kind == "blackhole":  # accepted, then nothing, ever: only the client's timeout ends it
            await asyncio.Event().wait()
        status, error_type, message = STATUS_FAULTS[fault.kind]
        extra: dict[str, str] = {}
        details: dict[str, str] | None = None
        if fault.kind == "rate_limit":
            seconds = fault.retry_after if fault.retry_after is not None else self.state.config.fault_retry_after
            record.retry_after = math.ceil(seconds)
            extra["retry-after"] = str(record.retry_after)
        elif fault.kind == "spend_limit":
            # the API's spend cap: the SDK maps it to EnforcedSpendLimitReachedError; waiting won't help
            details = {"error_code": "enforced_spend_limit_reached"}
            extra["x-should-retry"] = "false"
        return self._fail(record, status, error_type, message, extra, details)

    @staticmethod
    def _stop_early(reply: Reply, fault: Fault) -> None:
        """``refusal`` / ``pause_turn``: the reply ends after ``after_tokens`` tokens with that stop_reason."""
        n_thinking = len(reply.thinking) if reply.thinking else 0
        del reply.text[max(0, (fault.after_tokens or 0) - n_thinking):]
        reply.tool_calls = []  # generation stopped in the text, before any call
        reply.stop_reason, reply.stop_sequence = fault.kind, None
        return None

    # -- streaming -----------------------------------------------------------------------------
    async def _stream(self, request: web.Request, record: RequestRecord, reply: Reply,
                      fault: Fault | None) -> web.StreamResponse:
        cfg = self.state.config
        loop = asyncio.get_running_loop()
        resp = web.StreamResponse(status=200, headers={
            **self._headers(record.request_id),
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
        })
        record.status = 200
        await resp.prepare(request)
        message: dict[str, Any] = {"id": reply.message_id, "type": "message", "role": "assistant", "content": [],
                   "model": reply.model, "stop_reason": None, "stop_sequence": None,
                   "usage": _usage(reply, 1)}
        await resp.write(sse.message_start(message))
        items, md_index = stream_items(reply)
        stop = md_index + 2 if fault is None else self._fault_index(items, md_index, fault)
        sent_tokens = 0

        async def emit(start: int, end: int) -> None:
            nonlocal sent_tokens
            clock = reply.clock
            last_write = loop.time()
            i = start
            ping = cfg.ping_seconds
            while i < end:
                now = loop.time()
                ready = clock.ready(now)
                j = i
                while j < end and items[j][0] <= ready:
                    j += 1
                if j > i:
                    await resp.write(b"".join([item[1] for item in items[i:j]]))
                    sent_tokens = items[j - 1][0] if j - 1 < md_index else sent_tokens
                    record.output_tokens = min(sent_tokens, reply.output_tokens)
                    last_write = loop.time()
                    i = j
                    if i >= end:
                        break
                    if clock.interval <= 0:
                        await asyncio.sleep(0)
                        continue
                now = loop.time()
                wait = clock.due(items[i][0]) - now
                if ping > 0 and now - last_write >= ping:
                    await resp.write(sse.PING)
                    last_write = now
                if ping > 0:
                    wait = min(wait, last_write + ping - now)
                await asyncio.sleep(max(wait, MIN_TICK))

        hold = self.state.hold
        if hold is not None and not hold.released.is_set():
            # Up to the token the test asked for, then pings (so a byte-counting stall timer stays quiet).
            threshold = len(reply.thinking or ()) + hold.after_tokens  # thinking streams whole, then some text
            cut = next((k for k in range(min(stop, md_index)) if items[k][0] >= threshold), 0)
            await emit(0, cut)
            held_from = loop.time()
            while not hold.released.is_set():
                try:
                    await asyncio.wait_for(hold.released.wait(), min(cfg.ping_seconds, 1.0) if cfg.ping_seconds > 0 else 1.0)
                except TimeoutError:
                    await resp.write(sse.PING)
            reply.clock.t_first += loop.time() - held_from  # the rest streams at its own pace
            await emit(cut, stop)
        else:
            await emit(0, stop)
        if fault is None:
            record.output_tokens = reply.output_tokens
            record.outcome = "ok"
            await resp.write_eof()
            return resp
        kind = fault.kind
        record.outcome = kind
        if kind == "stall":
            await asyncio.sleep(cfg.stall_seconds)
            reply.clock.t_first += loop.time() - reply.clock.due(max(1, sent_tokens))
            await emit(stop, md_index + 2)
            record.output_tokens = reply.output_tokens
            await resp.write_eof()
        elif kind == "stream_error":
            await resp.write(sse.error("overloaded_error", "Overloaded", record.request_id))
            await resp.write_eof()
        elif kind == "truncate":
            await resp.write_eof()
        else:  # disconnect / reset: drop the connection mid-body, no terminating chunk
            self._drop(request, reset=kind == "reset")
        return resp

    @staticmethod
    def _fault_index(items: list[tuple[int, bytes]], md_index: int, fault: Fault) -> int:
        after = fault.after_tokens or 0
        for i in range(md_index):
            if items[i][0] > after:
                return i
        return md_index

    @staticmethod
    def _drop(request: web.Request, reset: bool = False) -> None:
        """Close the socket now; data already written is flushed first, then FIN — or, with
        ``reset``, an RST (SO_LINGER 0), which the client reads as "connection reset by peer"."""
        transport = request.transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if reset and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()

    # -- non-streaming ---------------------------------------------------------------------------
    async def _whole(self, request: web.Request, record: RequestRecord, reply: Reply,
                     fault: Fault | None) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        n = reply.output_tokens
        kind = fault.kind if fault is not None else None
        if fault is not None and kind in ("stream_error", "disconnect", "reset"):
            await asyncio.sleep(max(0.0, reply.clock.due(fault.after_tokens or 1) - loop.time()))
            if kind in ("disconnect", "reset"):
                record.outcome = kind
                self._drop(request, reset=kind == "reset")
                return web.Response(status=200)
            return self._fail(record, 529, "overloaded_error", "Overloaded")
        await asyncio.sleep(max(0.0, reply.clock.due(max(n, 1)) - loop.time()))
        if kind == "stall":
            await asyncio.sleep(self.state.config.stall_seconds)
        body = whole_message(reply, n)
        record.status = 200
        record.output_tokens = n
        record.outcome = kind or "ok"
        return web.json_response(body, headers=self._headers(record.request_id))

    # -- other endpoints ---------------------------------------------------------------------------
    async def count_tokens(self, request: web.Request) -> web.Response:
        request_id = _new_id("req_")
        try:
            body, _info = await self._common(request, require_max_tokens=False)
        except RequestError as exc:
            return self._error(exc.status, exc.error_type, exc.message, request_id)
        headers = {"request-id": request_id, **self.state.limiter.headers(_info.rate_class)}
        return web.json_response({"input_tokens": estimate_input_tokens(body)}, headers=headers)

    async def list_models(self, request: web.Request) -> web.Response:
        request_id = _new_id("req_")
        try:
            check_auth(request.headers, self.state.config.api_keys)
            q = request.query
            limit = int(q.get("limit", "20"))
            if not 1 <= limit <= 1000:
                raise RequestError(400, "invalid_request_error", "limit: must be between 1 and 1000")
        except ValueError:
            return self._error(400, "invalid_request_error", "limit: Input should be a valid integer", request_id)
        except RequestError as exc:
            return self._error(exc.status, exc.error_type, exc.message, request_id)
        page = models.list_page(limit, q.get("after_id"), q.get("before_id"))
        return web.json_response(page, headers={"request-id": request_id})

    async def get_model(self, request: web.Request) -> web.Response:
        request_id = _new_id("req_")
        try:
            check_auth(request.headers, self.state.config.api_keys)
        except RequestError as exc:
            return self._error(exc.status, exc.error_type, exc.message, request_id)
        model_id = request.match_info["model_id"]
        info = models.find_model(model_id)
        if info is None:
            return self._error(404, "not_found_error", f"model: {model_id}", request_id)
        return web.json_response(info.as_dict(), headers={"request-id": request_id})


def error_response(status: int, error_type: str, message: str, request_id: str,
                   headers: dict[str, str] | None = None, details: dict[str, str] | None = None) -> web.Response:
    """The API's error body (errors page: ``type``, ``error.type``/``message``, ``request_id``) with its
    ``request-id`` header; ``details`` is ``error.details`` (e.g. a spend cap's ``error_code``)."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if details:
        error["details"] = details
    body = {"type": "error", "error": error, "request_id": request_id}
    reason = {529: "Overloaded"}.get(status)
    return web.json_response(body, status=status, headers={"request-id": request_id, **(headers or {})},
                             reason=reason)


#: error.type and message for what aiohttp raises before (or instead of) a route.
_ROUTING_ERRORS = {
    404: ("not_found_error", "Not found: {method} {path}"),
    405: ("invalid_request_error", "Method Not Allowed: {method} {path}"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes (32 MB)."),
}


@web.middleware
async def _json_errors(request: web.Request,
                       handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Unknown paths, methods and oversized bodies answer in the API's error shape, with a request-id."""
    try:
        response = await handler(request)
        if response.status == 408 and not response.prepared:
            response.force_close()  # the body never came: do not wait for the rest of it
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error_type, template = _ROUTING_ERRORS.get(
            exc.status, ("invalid_request_error", f"{exc.reason}: {{method}} {{path}}"))
        response = error_response(exc.status, error_type, template.format(method=request.method, path=request.path),
                                  _new_id("req_"))
        if exc.status == 413:
            response.force_close()  # the rest of the body is not read
        return response


def build_app(state: SimState, routes: Routes | None = None) -> web.Application:
    """The Messages, count_tokens and models routes (``application.build`` adds the batch routes)."""
    app = web.Application(middlewares=[_json_errors], client_max_size=32 * 1024 * 1024)
    routes = routes or Routes(state)
    app.router.add_post("/v1/messages", routes.messages)
    app.router.add_post("/v1/messages/count_tokens", routes.count_tokens)
    app.router.add_get("/v1/models", routes.list_models)
    app.router.add_get("/v1/models/{model_id}", routes.get_model)
    return app
