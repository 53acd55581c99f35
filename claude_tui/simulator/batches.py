"""Message Batches: create, poll, list, cancel, delete, and the results as JSONL at ``results_url``.

Each request is validated and planned exactly like a non-streaming ``POST /v1/messages`` body
(``validate_body`` + ``plan_reply``), but nothing is streamed: the batch "processes" for
``config.batch_seconds`` and every result appears at once, because the API's counts "move to one of
the other statuses only once processing of the entire batch ends". Each request gets a completion
time spread over that window, so a cancel finishes the ones already due (the API: "in-progress
requests may still complete") and cancels the rest. Results carry the normal usage with
``service_tier: "batch"``: the 50 % price is the client's arithmetic, as with the real API.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from .app import Routes, SimState, _new_id, plan_reply, whole_message
from .request_errors import RequestError, bad
from .validation import check_auth, check_version, estimate_input_tokens, parse_json, validate_body

MAX_REQUESTS = 100_000
MAX_BYTES = 256 * 1024 * 1024
EXPIRES_AFTER = timedelta(hours=24)
PLAN_CHUNK = 50  # replies planned between yields to the event loop (~20 ms of CPU)
CANCEL_GRACE = 0.1  # seconds a canceling batch takes to end (the API: usually seconds to minutes)
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@dataclass
class _Item:
    custom_id: str
    due: float  # loop time its processing finishes
    result: dict[str, Any] | None  # an error or fault, decided at creation; None = reply to plan
    params: dict[str, Any] | None = None  # kept until its reply is planned
    input_tokens: int = 0


@dataclass
class Batch:
    id: str
    created_at: datetime
    items: list[_Item]
    processing_status: str = "in_progress"
    ended_at: datetime | None = None
    cancel_initiated_at: datetime | None = None
    final: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom_id → result, once ended
    task: asyncio.Task[None] | None = None

    def counts(self) -> dict[str, int]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if self.processing_status != "ended":
            counts["processing"] = len(self.items)
            return counts
        for result in self.final.values():
            counts[result["type"]] += 1
        return counts

    def as_dict(self, base_url: str) -> dict[str, Any]:
        ended = self.processing_status == "ended"
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.processing_status,
            "request_counts": self.counts(),
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.created_at + EXPIRES_AFTER),
            "ended_at": _iso(self.ended_at),
            "cancel_initiated_at": _iso(self.cancel_initiated_at),
            "archived_at": None,  # results are kept 29 days; the simulator never archives
            "results_url": f"{base_url}/v1/messages/batches/{self.id}/results" if ended else None,
        }


class BatchStore:
    """Every batch of one simulator, newest last; also what tests read (``state.batches``)."""

    def __init__(self, state: SimState) -> None:
        self.state = state
        self.batches: dict[str, Batch] = {}
        self._rng = random.Random(f"batches:{state.config.seed}")

    def newest_first(self) -> list[Batch]:
        return list(reversed(self.batches.values()))

    async def end(self, batch: Batch) -> None:
        """Plan the replies of the requests that complete, then publish every result at once.

        Planning a 300-token reply takes ~0.4 ms, so 100,000 of them would hold the event loop for
        ~40 s: it is done here, at the end, yielding every PLAN_CHUNK replies, and not in create.
        """
        loop_now = asyncio.get_running_loop().time()
        done = [batch.processing_status == "in_progress" or item.due <= loop_now for item in batch.items]
        planned = 0
        for item, finished in zip(batch.items, done):
            if finished and item.result is None and item.params is not None:
                item.result = _succeeded(self.state, item.params, item.input_tokens)
                item.params = None
                planned += 1
                if planned % PLAN_CHUNK == 0:
                    await asyncio.sleep(0)
        for item, finished in zip(batch.items, done):
            batch.final[item.custom_id] = item.result if finished and item.result is not None else {"type": "canceled"}
        batch.processing_status = "ended"
        batch.ended_at = datetime.now(timezone.utc)

    async def process(self, batch: Batch, until: float) -> None:
        await asyncio.sleep(max(0.0, until - asyncio.get_running_loop().time()))
        await self.end(batch)

    def close(self) -> None:
        for batch in self.batches.values():
            if batch.task is not None:
                batch.task.cancel()


def _errored(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "errored", "error": {"type": "error", "error": {"type": error_type, "message": message}}}


def _item(state: SimState, rng: random.Random, custom_id: str, due: float, params: dict[str, Any],
          version: str) -> _Item:
    """One request: its validation error or configured fault now, or the params to plan at the end."""
    try:
        info = validate_body(params, version, require_max_tokens=True)
    except RequestError as exc:
        return _Item(custom_id, due, _errored(exc.error_type, exc.message))
    input_tokens = estimate_input_tokens(params)
    if input_tokens > info.context_window:
        return _Item(custom_id, due, _errored(
            "invalid_request_error", f"prompt is too long: {input_tokens} tokens > {info.context_window} maximum"))
    u, edge = rng.random(), 0.0
    for kind, rate in state.config.batch_faults.items():
        edge += rate
        if u < edge:
            fault = {"type": "expired"} if kind == "batch_expired" else _errored("api_error", "Internal server error")
            return _Item(custom_id, due, fault)
    return _Item(custom_id, due, None, params, input_tokens)


def _succeeded(state: SimState, params: dict[str, Any], input_tokens: int) -> dict[str, Any]:
    """The message a non-streaming /v1/messages call with these params would get."""
    reply = plan_reply(state, params, input_tokens, 0.0)
    reply.service_tier = "batch"
    return {"type": "succeeded", "message": whole_message(reply, reply.output_tokens)}


class BatchRoutes:
    def __init__(self, routes: Routes, store: BatchStore) -> None:
        self.routes = routes
        self.store = store

    def _base(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"  # the SDK follows results_url as given

    def _find(self, request: web.Request) -> Batch:
        check_auth(request.headers, self.store.state.config.api_keys)
        batch = self.store.batches.get(request.match_info["batch_id"])
        if batch is None:
            raise RequestError(404, "not_found_error", f"message_batch: {request.match_info['batch_id']}")
        return batch

    def _answer(self, exc: RequestError) -> web.Response:
        return self.routes._error(exc.status, exc.error_type, exc.message, _new_id("req_"))

    async def _read(self, request: web.Request) -> bytes:
        """The body, read past aiohttp's client_max_size (32 MB) up to the batch limit (256 MB)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(1 << 20):
            size += len(chunk)
            if size > MAX_BYTES:
                raise RequestError(413, "request_too_large", f"a batch may hold at most {MAX_BYTES:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def create(self, request: web.Request) -> web.Response:
        state = self.store.state
        try:
            check_auth(request.headers, state.config.api_keys)
            version = check_version(request.headers)
            body = parse_json(await self._read(request))
            requests = body.get("requests")
            if not isinstance(requests, list) or not requests:
                raise bad("requests: Input should be a non-empty list")
            if len(requests) > MAX_REQUESTS:
                raise bad(f"requests: a batch may hold at most {MAX_REQUESTS:,} requests, got {len(requests):,}")
            seen: set[str] = set()
            for i, entry in enumerate(requests):
                custom_id = entry.get("custom_id") if isinstance(entry, dict) else None
                if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
                    raise bad(f"requests.{i}.custom_id: 1-64 characters of letters, digits, _ or -")
                if custom_id in seen:
                    raise bad(f"requests.{i}.custom_id: {custom_id!r} is not unique within the batch")
                seen.add(custom_id)
                if not isinstance(entry.get("params"), dict):
                    raise bad(f"requests.{i}.params: Field required")
                if entry["params"].get("stream"):
                    raise bad(f"requests.{i}.params.stream: streaming is not supported in a batch")
        except RequestError as exc:
            return self._answer(exc)
        loop_now = asyncio.get_running_loop().time()
        window = state.config.batch_seconds
        rng = self.store._rng
        items = [_item(state, rng, e["custom_id"], loop_now + rng.uniform(0, window), e["params"], version)
                 for e in requests]
        batch = Batch(_new_id("msgbatch_"), datetime.now(timezone.utc), items)
        self.store.batches[batch.id] = batch
        batch.task = asyncio.ensure_future(self.store.process(batch, loop_now + window))
        return web.json_response(batch.as_dict(self._base(request)))

    async def retrieve(self, request: web.Request) -> web.Response:
        try:
            batch = self._find(request)
        except RequestError as exc:
            return self._answer(exc)
        return web.json_response(batch.as_dict(self._base(request)))

    async def list(self, request: web.Request) -> web.Response:
        try:
            check_auth(request.headers, self.store.state.config.api_keys)
            try:
                limit = int(request.query.get("limit", "20"))
            except ValueError:
                raise bad("limit: Input should be a valid integer") from None
            if not 1 <= limit <= 1000:
                raise bad("limit: must be between 1 and 1000")
        except RequestError as exc:
            return self._answer(exc)
        batches = self.store.newest_first()
        ids = [b.id for b in batches]
        after, before = request.query.get("after_id"), request.query.get("before_id")
        start, end = 0, len(batches)
        if after in ids:
            start = ids.index(after) + 1
        if before in ids:
            end = ids.index(before)
            start = max(start, end - limit)
        page = batches[start:end][:limit]
        has_more = start + len(page) < end if before not in ids else start > 0
        base = self._base(request)
        return web.json_response({"data": [b.as_dict(base) for b in page], "has_more": has_more,
                                  "first_id": page[0].id if page else None,
                                  "last_id": page[-1].id if page else None})

    async def cancel(self, request: web.Request) -> web.Response:
        try:
            batch = self._find(request)
        except RequestError as exc:
            return self._answer(exc)
        if batch.processing_status == "in_progress":
            batch.processing_status = "canceling"
            batch.cancel_initiated_at = datetime.now(timezone.utc)
            if batch.task is not None:
                batch.task.cancel()
            batch.task = asyncio.ensure_future(
                self.store.process(batch, asyncio.get_running_loop().time() + CANCEL_GRACE))
        return web.json_response(batch.as_dict(self._base(request)))

    async def delete(self, request: web.Request) -> web.Response:
        try:
            batch = self._find(request)
            if batch.processing_status != "ended":
                raise bad(f"message_batch {batch.id} is {batch.processing_status}: cancel it and wait "
                          "until it has ended before deleting it")
        except RequestError as exc:
            return self._answer(exc)
        del self.store.batches[batch.id]
        return web.json_response({"id": batch.id, "type": "message_batch_deleted"})

    async def results(self, request: web.Request) -> web.StreamResponse:
        try:
            batch = self._find(request)
            if batch.processing_status != "ended":
                raise bad(f"message_batch {batch.id} has not ended: its results are not ready")
        except RequestError as exc:
            return self._answer(exc)
        entries = list(batch.final.items())
        random.Random(batch.id).shuffle(entries)  # "not guaranteed to be in the same order as requests"
        body = "".join(json.dumps({"custom_id": cid, "result": result}) + "\n" for cid, result in entries)
        return web.Response(body=body.encode(), content_type="application/binary")


def register(app: web.Application, routes: Routes) -> BatchStore:
    """Add the /v1/messages/batches routes; the store is kept on the state as ``state.batches``."""
    store = BatchStore(routes.state)
    routes.state.batches = store  # type: ignore[attr-defined]
    handlers = BatchRoutes(routes, store)

    async def stop(_app: web.Application) -> None:
        store.close()

    app.on_cleanup.append(stop)
    app.router.add_post("/v1/messages/batches", handlers.create)
    app.router.add_get("/v1/messages/batches", handlers.list)
    app.router.add_get("/v1/messages/batches/{batch_id}", handlers.retrieve)
    app.router.add_post("/v1/messages/batches/{batch_id}/cancel", handlers.cancel)
    app.router.add_delete("/v1/messages/batches/{batch_id}", handlers.delete)
    app.router.add_get("/v1/messages/batches/{batch_id}/results", handlers.results)
    return store
