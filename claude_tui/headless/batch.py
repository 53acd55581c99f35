"""`run --mode batch`: the prompts as Message Batches at half price, resumable after kill -9.

Resume rests on one rule: a batch id is on disk (``<out>.batches``, 0600, fsynced) before we
wait for it, and the prompts' ``custom_id`` is derived from their stable id, never from text or
position. So a re-run of the same command skips ids already succeeded in ``--out``, polls the
stored batches that have not been collected, and submits only prompts in no stored batch.
The one window left — killed after the server accepted a batch but before its id reached disk —
is closed by an ``intent`` line written first: on resume, a batch the server created after the
intent with the same number of requests is adopted instead of submitting those prompts again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Sequence

import anthropic
from rich.console import Console
from rich.table import Table

from ..engine.events import Cancelled, Done, ErrorKind, Failed, Timings, Usage
from ..engine.pricing import PriceTable
from .plan import BATCH_PRICE_FACTOR, params_for
from .prompts import PromptSpec
from .results import ResultWriter, completed_ids, open_for_append, result_record, rewrite_latest
from .interrupts import add_signal_handlers, remove_signal_handlers
from .run import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_OK, RunOptions, RunOutcome

MAX_REQUESTS = 100_000
MAX_BYTES = 200 * 1024 * 1024  # the API allows 256 MB; headroom for JSON framing
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: API error types a live re-run could cure; anything else (a 400, a 404 model) fails the same way again.
_TRANSIENT = {"api_error", "overloaded_error", "rate_limit_error", "timeout_error"}
_KINDS: dict[str, ErrorKind] = {"invalid_request_error": "bad_request", "not_found_error": "not_found",
                                "api_error": "server_error", "overloaded_error": "overloaded",
                                "rate_limit_error": "rate_limit", "authentication_error": "authentication",
                                "permission_error": "permission", "request_too_large": "too_large"}


@dataclass(frozen=True)
class BatchOptions:
    rerun: str = "live"  # errored / expired items: "live" (through the RequestPool) or "batch"
    poll_first: float = 1.0  # seconds; ×1.5 per poll: most batches end within the hour
    poll_cap: float = 120.0
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES


def custom_id_for(spec_id: str) -> str:
    """The API allows ``[a-zA-Z0-9_-]{1,64}``; other ids map to a stable hash of themselves."""
    if _CUSTOM_ID.match(spec_id):
        return spec_id
    return "h-" + hashlib.sha256(spec_id.encode()).hexdigest()[:40]


class SideFile:
    """``<out>.batches``: one JSON line per event (intent, batch, collected), appended and fsynced."""

    def __init__(self, out_path: Path) -> None:
        self.path = out_path.with_name(out_path.name + ".batches")

    def load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line from a kill mid-write
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def append(self, entry: dict[str, Any]) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (json.dumps(entry) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)


def chunks(items: list[tuple[str, dict[str, Any]]], max_requests: int, max_bytes: int) -> list[list[tuple[str, dict[str, Any]]]]:
    """Split (custom_id, params) pairs into batches under both limits, whichever comes first."""
    out: list[list[tuple[str, dict[str, Any]]]] = []
    current: list[tuple[str, dict[str, Any]]] = []
    size = 0
    for cid, params in items:
        n = len(json.dumps(params)) + len(cid) + 32
        if current and (len(current) >= max_requests or size + n > max_bytes):
            out.append(current)
            current, size = [], 0
        current.append((cid, params))
        size += n
    if current:
        out.append(current)
    return out


class BatchHistory:
    """The run's batches and their items in the history DB (issue #12: batch spend apart from live).

    Best effort, like the live recorder: no history (``CLAUDE_TUI_NO_HISTORY``, unopenable) means
    nothing is recorded; a write that fails switches it off with one notice. Rows are keyed by
    (batch id, custom_id), so a resumed run that collects a batch again records nothing twice.
    """

    def __init__(self, results_file: Path) -> None:
        self.results_file = str(results_file)
        self.store: Any = None
        self.off = bool(os.environ.get("CLAUDE_TUI_NO_HISTORY"))

    def _store(self) -> Any:
        if self.store is None and not self.off:
            from ..store import HistoryStore
            from ..store.db import HistoryError

            try:
                self.store = HistoryStore.open()
            except (HistoryError, OSError):  # the run's services already said the history is off
                self.off = True
        return self.store

    def _call(self, method: str, *args: Any, **kwargs: Any) -> None:
        store = self._store()
        if store is None:
            return
        import sqlite3

        from ..logs import notice, storage_reason
        from ..store.db import HistoryError

        try:
            getattr(store, method)(*args, **kwargs)
        except (sqlite3.Error, HistoryError, OSError) as exc:
            self.off = True
            notice(f"history off: {storage_reason(exc) or exc}")

    def batch(self, batch_id: str, requests: int, submitted_at: float) -> None:
        self._call("record_batch", batch_id, results_file=self.results_file, requests=requests, submitted_at=submitted_at)

    def item(self, batch_id: str, custom_id: str, record: dict[str, Any], submitted_at: float, ended_at: float) -> None:
        status = {"succeeded": "ok", "failed": "failed"}.get(record["status"], "cancelled")
        usage = record.get("usage") or {}
        error = record.get("error") or {}
        self._call("record_batch_item", batch_id, custom_id, status=status, model=record.get("model"),
                   cost=record.get("cost_usd"), input_tokens=usage.get("input_tokens", 0),
                   output_tokens=usage.get("output_tokens", 0),
                   cache_write_tokens=usage.get("cache_creation_input_tokens", 0),
                   cache_read_tokens=usage.get("cache_read_input_tokens", 0), started_at=submitted_at,
                   ended_at=ended_at, error_kind=error.get("kind"), error_message=error.get("message"))

    def collected(self, batch_id: str) -> None:
        self._call("batch_collected", batch_id)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


@dataclass
class _Tally:
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    rerun: int = 0
    cost: float = 0.0
    live_price: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0


class BatchRunner:
    def __init__(self, specs: Sequence[PromptSpec], options: RunOptions, bopts: BatchOptions, *,
                 api_key: str, base_url: str | None, out_path: Path, console: Console) -> None:
        self.options = options
        self.bopts = bopts
        self.out_path = out_path
        self.console = console
        self.side = SideFile(out_path)
        self.by_cid = {custom_id_for(s.id): s for s in specs}
        self.prices = options.prices or PriceTable()
        self.client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=4)
        self.tally = _Tally()
        self.retry_live: list[PromptSpec] = []
        self.interrupted = asyncio.Event()
        self.history = BatchHistory(out_path)

    # -- what is stored ------------------------------------------------------------------------
    async def _stored(self) -> dict[str, dict[str, Any]]:
        """Batch id → its side-file line, for batches not yet collected (intents resolved first)."""
        entries = self.side.load()
        batches = {e["batch_id"]: e for e in entries if "batch_id" in e and "custom_ids" in e}
        collected = {e["collected"] for e in entries if "collected" in e}
        resolved = {e.get("intent") for e in batches.values()} | {e["abandoned"] for e in entries if "abandoned" in e}
        for intent in [e for e in entries if "intent" in e and "batch_id" not in e]:
            if intent["intent"] in resolved:
                continue
            adopted = await self._adopt(intent, set(batches))
            if adopted is None:  # the submit never reached the server: its prompts are simply submitted again
                self.side.append({"abandoned": intent["intent"]})  # and a later batch is never mistaken for it
            else:
                entry = {"batch_id": adopted, "intent": intent["intent"], "custom_ids": intent["custom_ids"],
                         "submitted_at": intent["at"], "adopted": True}
                self.side.append(entry)
                batches[adopted] = entry
        pending = {bid: e for bid, e in batches.items() if bid not in collected}
        for bid in list(pending):
            try:
                await self.client.messages.batches.retrieve(bid)
            except anthropic.NotFoundError:  # deleted, or another (embedded) simulator's: resubmit its prompts
                self.console.print(f"stored batch {bid} no longer exists on the server; its unfinished prompts "
                                   "are submitted again", style="yellow", highlight=False)
                self.side.append({"collected": bid, "lost": True})
                del pending[bid]
        return pending

    async def _adopt(self, intent: dict[str, Any], known: set[str]) -> str | None:
        """The batch the server accepted for an intent whose id never reached disk, if one matches."""
        since = datetime.fromtimestamp(intent["at"]).astimezone() - timedelta(seconds=60)
        async for batch in self.client.messages.batches.list(limit=100):
            if batch.created_at < since:
                break
            c = batch.request_counts
            total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
            if batch.id not in known and total == len(intent["custom_ids"]):
                return batch.id
        return None

    # -- submit ----------------------------------------------------------------------------------
    async def _submit(self, specs: list[PromptSpec]) -> dict[str, dict[str, Any]]:
        opts = self.options
        items = [(custom_id_for(s.id), params_for(s, opts.model, opts.max_tokens, opts.system)) for s in specs]
        submitted: dict[str, dict[str, Any]] = {}
        for group in chunks(items, self.bopts.max_requests, self.bopts.max_bytes):
            if self.interrupted.is_set():
                break  # Ctrl-C: what was submitted is stored; the rest is submitted by the next run
            ids = [cid for cid, _ in group]
            at = time.time()
            intent = {"intent": hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16] + f"-{time.time_ns()}",
                      "custom_ids": ids, "at": at}
            self.side.append(intent)  # before the POST: see the module docstring
            batch = await self.client.messages.batches.create(
                requests=[{"custom_id": cid, "params": params} for cid, params in group])  # type: ignore[typeddict-item]
            entry = {"batch_id": batch.id, "intent": intent["intent"], "custom_ids": ids, "submitted_at": intent["at"]}
            self.side.append(entry)  # before any polling: a kill from here on resumes this batch
            self.history.batch(batch.id, len(ids), at)
            submitted[batch.id] = entry
            self.console.print(f"submitted {batch.id}: {len(ids):,} requests (stored in {self.side.path})",
                               highlight=False)
        return submitted

    # -- poll and collect ------------------------------------------------------------------------
    def _progress(self, batch: Any, since: float) -> None:
        c = batch.request_counts
        # One unwrapped line per poll (polls are seconds to minutes apart, so a log stays short).
        self.console.print(
            f"{batch.id} {batch.processing_status}: {c.processing:,} processing, {c.succeeded:,} ok, "
            f"{c.errored:,} errored, {c.canceled:,} canceled, {c.expired:,} expired; "
            f"{time.time() - since:,.0f} s since submit", highlight=False, soft_wrap=True)

    async def _poll(self, pending: dict[str, dict[str, Any]], writer: ResultWriter) -> None:
        delay = self.bopts.poll_first
        while pending and not self.interrupted.is_set():
            for bid in list(pending):
                batch = await self.client.messages.batches.retrieve(bid)
                self._progress(batch, pending[bid]["submitted_at"])
                if batch.processing_status == "ended":
                    await self._collect(batch, pending.pop(bid), writer)
            if not pending:
                break
            try:
                await asyncio.wait_for(self.interrupted.wait(), timeout=delay)
            except TimeoutError:
                pass
            delay = min(delay * 1.5, self.bopts.poll_cap)

    async def _collect(self, batch: Any, entry: dict[str, Any], writer: ResultWriter) -> None:
        already = completed_ids(self.out_path)
        submitted = entry["submitted_at"]
        ended = batch.ended_at.timestamp() if batch.ended_at else time.time()
        async for item in await self.client.messages.batches.results(batch.id):
            spec = self.by_cid.get(item.custom_id)
            if spec is None or spec.id in already:
                continue  # not this job's prompt, or written by an earlier collect
            record = self._record(spec, item.result, submitted, ended)
            if record is None:
                self.retry_live.append(spec)
                continue
            record["mode"] = "batch"
            record["batch_id"] = batch.id
            self.history.item(batch.id, item.custom_id, record, submitted, ended)  # before --out: a re-collect is ignored
            writer.write(record)
        self.side.append({"collected": batch.id})
        self.history.collected(batch.id)

    def _record(self, spec: PromptSpec, result: Any, submitted: float, ended: float) -> dict[str, Any] | None:
        """The same line a live run writes; None for an item to re-run (errored transiently / expired)."""
        model = spec.model or self.options.model
        timings = Timings(submitted=0.0, started=0.0, finished=ended - submitted)
        now = time.monotonic()
        if result.type == "succeeded":
            msg = result.message
            u = msg.usage
            usage = Usage(u.input_tokens, u.output_tokens, u.cache_creation_input_tokens or 0,
                          u.cache_read_input_tokens or 0)
            live = self.prices.cost(msg.model, usage)
            cost = None if live is None else live * BATCH_PRICE_FACTOR
            text = "".join(b.text for b in msg.content if b.type == "text")
            thinking = "".join(b.thinking for b in msg.content if b.type == "thinking")
            self.tally.succeeded += 1
            self.tally.cost += cost or 0.0
            self.tally.live_price += live or 0.0
            self.tally.input_tokens += usage.input_tokens
            self.tally.output_tokens += usage.output_tokens
            return result_record(spec.id, model, Done(job_id=spec.id, at=now, text=text, thinking=thinking, usage=usage,
                                                      stop_reason=msg.stop_reason, model=msg.model, request_id=None,
                                                      attempts=1, timings=timings, cost=cost))
        if result.type == "canceled":
            self.tally.canceled += 1
            return result_record(spec.id, model, Cancelled(job_id=spec.id, at=now, partial_text="", attempts=1, timings=timings))
        error_type, message = "expired", "the batch request expired before it was processed"
        if result.type == "errored":
            error_type, message = result.error.error.type, result.error.error.message
        if result.type == "expired" or error_type in _TRANSIENT:
            self.tally.rerun += 1
            return None
        self.tally.failed += 1
        return result_record(spec.id, model, Failed(job_id=spec.id, at=now, kind=_KINDS.get(error_type, "unknown"),
                                                    message=message, status_code=None, retryable=False, partial_text="",
                                                    attempts=1, request_id=None, timings=timings))

    # -- the whole run ---------------------------------------------------------------------------
    async def run(self, specs: Sequence[PromptSpec]) -> dict[str, dict[str, Any]]:
        """Submit what no stored batch holds, poll until every batch ends (or Ctrl-C)."""
        done = completed_ids(self.out_path)
        todo = [s for s in specs if s.id not in done]
        pending = await self._stored()
        held = {cid for e in pending.values() for cid in e["custom_ids"]}
        if pending:
            self.console.print(f"resuming {len(pending)} stored batch(es): {', '.join(pending)}", highlight=False)
            for bid, entry in pending.items():  # e.g. adopted after a kill before its id reached the history
                self.history.batch(bid, len(entry["custom_ids"]), entry["submitted_at"])
        fresh = [s for s in todo if custom_id_for(s.id) not in held]
        if fresh:
            pending.update(await self._submit(fresh))
        with open_for_append(self.out_path) as out:  # a torn last line cut off; created 0600
            await self._poll(pending, ResultWriter(out))
        if not pending:
            rewrite_latest(self.out_path)  # one line per id, as `run` leaves it
        return pending  # what is still running (non-empty only when interrupted)

    async def cancel(self, batch_ids: Sequence[str]) -> None:
        for bid in batch_ids:
            await self.client.messages.batches.cancel(bid)


def _ask_cancel(console: Console, running: Sequence[str]) -> bool:
    """Ask whether to cancel the batches on the server; a non-interactive stdin leaves them running."""
    if not sys.stdin or not sys.stdin.isatty():
        console.print(f"interrupted: leaving {len(running)} batch(es) running on the server (stdin is not a "
                      "terminal); run the same command again to collect the results", highlight=False)
        return False
    try:
        answer = input(f"Cancel {len(running)} batch(es) on the server? [y/N] ")
    except (EOFError, KeyboardInterrupt):
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    console.print("left running on the server; run the same command again to collect the results")
    return False


async def run_via_batches(specs: list[PromptSpec], options: RunOptions, bopts: BatchOptions, *, api_key: str,
                          base_url: str | None, out_path: Path, console: Console,
                          listeners: Sequence[Callable[[Any], None]] = ()) -> RunOutcome:
    """`run --mode batch`: everything the live runner promises, at half price and within 24 h."""
    from .run import run_batch  # the live runner, for errored / expired items

    runner = BatchRunner(specs, options, bopts, api_key=api_key, base_url=base_url, out_path=out_path,
                         console=console)
    skipped = len(completed_ids(out_path) & {s.id for s in specs})
    handlers = add_signal_handlers(runner.interrupted.set, signal.SIGINT)
    started = time.monotonic()
    live_outcome: RunOutcome | None = None
    try:
        running = await runner.run(specs)
        rounds = 1
        while runner.retry_live and not running and bopts.rerun == "batch" and rounds < 3:
            again, runner.retry_live = runner.retry_live, []
            console.print(f"{len(again):,} errored / expired item(s): resubmitting as a new batch")
            running = await runner.run(again)
            rounds += 1
    except anthropic.APIError as exc:
        console.print(f"claude-tui run: the Batches API failed: {exc}", style="red", markup=False, highlight=False)
        await runner.client.close()
        runner.history.close()
        return RunOutcome(EXIT_FAILURES, runner.tally.succeeded, runner.tally.failed, skipped, False)
    finally:
        remove_signal_handlers(handlers)
    if running:
        if await asyncio.to_thread(_ask_cancel, console, list(running)):
            await runner.cancel(list(running))
            console.print("cancel requested; run the same command again to collect what finished "
                          "and resubmit the rest", highlight=False)
    elif runner.retry_live:
        console.print(f"{len(runner.retry_live):,} errored / expired item(s): re-running live", highlight=False)
        live_outcome = await run_batch(runner.retry_live, options, api_key=api_key, base_url=base_url,
                                       out_path=out_path, console=console, listeners=listeners)
    await runner.client.close()
    runner.history.close()
    t = runner.tally
    table = Table(title="claude-tui run --mode batch — " + ("interrupted" if running else "summary"), show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for name, value in [("succeeded (batch)", f"{t.succeeded:,}"), ("failed", f"{t.failed:,}"),
                        ("canceled", f"{t.canceled:,}"),
                        ("re-run live", f"{len(runner.retry_live):,}" if live_outcome else "0"),
                        ("skipped (already done)", f"{skipped:,}"),
                        ("tokens in / out", f"{t.input_tokens:,} / {t.output_tokens:,}"),
                        ("cost (batch, 50 %)", f"${t.cost:,.4f}"), ("same tokens live", f"${t.live_price:,.4f}"),
                        ("wall time", f"{time.monotonic() - started:,.1f} s")]:
        table.add_row(name, value)
    console.print(table)
    console.print(f"results: {out_path}  batches: {runner.side.path}", highlight=False)
    succeeded = t.succeeded + (live_outcome.succeeded if live_outcome else 0)
    failed = t.failed + (live_outcome.failed if live_outcome else 0)
    if running:
        return RunOutcome(EXIT_INTERRUPTED, succeeded, failed, skipped, True)
    return RunOutcome(EXIT_FAILURES if failed or t.canceled else EXIT_OK, succeeded, failed, skipped, False)
