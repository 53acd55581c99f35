"""`claude-tui run FILE --redis URL --distribute --out results.jsonl`: enqueue once, collect every result.

The job id is derived from what would be sent (``layout.job_id_for``), so running the same command
again — after Ctrl-C, ``kill -9`` or on another machine — re-attaches to the same job. Prompt ``i``
is stream entry ``0-(i+1)``: Redis itself refuses an id at or below the stream's last one, so an
interrupted enqueue resumes where it stopped and a prompt is never added twice. Results come from
the job's ``done`` stream (read from its start on every attach) and are appended to ``--out`` in the
live runner's line format, one line per id, skipping ids already succeeded there.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..headless.batch import custom_id_for
from ..headless.prompts import PromptSpec
from ..headless.results import ResultWriter, open_for_append, read_results, rewrite_latest
from ..headless.run import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_OK, RunOptions, RunOutcome
from ..headless.interrupts import add_signal_handlers, remove_signal_handlers
from .layout import GROUP, JOBS_KEY, KEEP_SECONDS, Keys, entry_fields, entry_id, index_of, job_id_for, loads

ENQUEUE_CHUNK = 500  # entries per pipeline round trip (2,000 prompts: 4 round trips)
WORKER_STALE_SECONDS = 10.0  # a worker silent this long is no longer shown


class RedisUnavailable(Exception):
    """One line for the user: Redis could not be reached or used."""


@dataclass
class Collected:
    succeeded: int = 0
    failed: int = 0
    cost: float = 0.0
    by_worker: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # spec id → reason


async def connect(url: str) -> Any:
    """A redis.asyncio client that answered PING (RedisUnavailable otherwise)."""
    try:
        import redis.asyncio as aioredis
    except ImportError:
        raise RedisUnavailable("--distribute needs redis-py: pip install 'claude-tui[redis]'") from None
    try:
        client = aioredis.from_url(url, decode_responses=True, socket_connect_timeout=5, health_check_interval=30)
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach it is one line for the user
        raise RedisUnavailable(f"cannot reach Redis at {url}: {exc}") from None
    return client


async def enqueue(r: Any, keys: Keys, specs: Sequence[PromptSpec], options: RunOptions, source: str,
                  known: dict[str, dict[str, Any]] | None = None) -> tuple[int, int]:
    """Put every prompt on the job's stream once; returns (already there, added now).

    ``known``: lines already succeeded in ``--out`` (by prompt id). Their entries are added all the
    same (the stream is the whole file, entry i is prompt i), but their result is seeded first, so a
    worker finds it and only acknowledges the entry: no request is sent twice for them.
    """
    known = known or {}
    from redis.exceptions import ResponseError

    await r.hsetnx(keys.meta, "created_at", time.time())
    await r.hset(keys.meta, mapping={"total": len(specs), "model": options.model, "source": source})
    try:
        await r.xgroup_create(keys.prompts, GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    last = index_of((await r.xinfo_stream(keys.prompts))["last-generated-id"])
    before = last + 1
    added = 0
    for start in range(before, len(specs), ENQUEUE_CHUNK):
        pipe = r.pipeline(transaction=False)
        chunk = range(start, min(start + ENQUEUE_CHUNK, len(specs)))
        for i in chunk:
            line = known.get(specs[i].id)
            if line is not None:
                pipe.hsetnx(keys.results, custom_id_for(specs[i].id), json.dumps(line, ensure_ascii=False))
            pipe.xadd(keys.prompts, entry_fields(specs[i], options.model, options.max_tokens, options.system), id=entry_id(i))
        for reply in await pipe.execute(raise_on_error=False):
            if isinstance(reply, ResponseError):
                if "equal or smaller" not in str(reply):  # another submitter added it first: fine
                    raise reply
            elif isinstance(reply, str):  # an XADD's entry id (HSETNX answers 0 or 1)
                added += 1
    meta = await r.hgetall(keys.meta)
    if meta.get("state") != "finished":
        await r.hset(keys.meta, "state", "open")
        await r.zadd(JOBS_KEY, {keys.job: float(meta.get("created_at") or time.time())}, nx=True)
    return before, added


def _progress(console: Console) -> Progress:
    return Progress(
        BarColumn(bar_width=12), MofNCompleteColumn(),
        TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/] {task.fields[flight]}"),
        TextColumn("{task.fields[rate]:.2f}/s"), TextColumn("ETA"), TimeRemainingColumn(compact=True),
        console=console, transient=False, refresh_per_second=4)


def _flight(workers: dict[str, str]) -> str:
    """``3 in flight (a1b2 2, c3d4 1)``: the live workers' in-flight counts, by short name."""
    now = time.time()
    live = []
    for name, raw in sorted(workers.items()):
        info = loads(raw) or {}
        if now - float(info.get("at", 0)) <= WORKER_STALE_SECONDS:
            live.append((name, int(info.get("in_flight", 0))))
    if not live:
        return "no worker yet"
    parts = ", ".join(f"{name[-12:]} {n}" for name, n in live)
    return f"{sum(n for _, n in live)} in flight ({len(live)} worker{'s' if len(live) > 1 else ''}: {parts})"


async def collect(r: Any, keys: Keys, specs: Sequence[PromptSpec], out_path: Path, console: Console,
                  stop: asyncio.Event, collected: Collected) -> bool:
    """Append results to ``--out`` until every prompt has one (True) or ``stop`` is set (False)."""
    by_cid = {custom_id_for(s.id): s for s in specs}
    previous = read_results(out_path)
    have = previous.succeeded()
    pending = {cid for cid, s in by_cid.items() if s.id not in have}
    skipped = len(by_cid) - len(pending)
    recent: deque[tuple[float, int]] = deque(maxlen=120)
    position = "0-0"
    with open_for_append(out_path) as handle, _progress(console) as progress:
        writer = ResultWriter(handle)
        task = progress.add_task("job", total=len(specs), completed=skipped, ok=skipped, failed=0, flight="", rate=0.0)
        while pending and not stop.is_set():
            reply = await r.xread({keys.done: position}, count=1000, block=1000)
            ids: list[str] = []
            for _stream, entries in reply or []:
                for eid, fields in entries:
                    position = eid
                    if fields.get("id") in pending:
                        ids.append(fields["id"])
            if ids:
                for cid, raw in zip(ids, await r.hmget(keys.results, ids)):
                    record = loads(raw)
                    if record is None or cid not in pending:
                        continue
                    pending.discard(cid)
                    writer.write(record)
                    if record.get("status") == "succeeded":
                        collected.succeeded += 1
                        collected.cost += record.get("cost_usd") or 0.0
                    else:
                        collected.failed += 1
                        collected.failures[str(record.get("id"))] = (record.get("error") or {}).get("message", "failed")
                    worker = str(record.get("worker") or "?")
                    collected.by_worker[worker] = collected.by_worker.get(worker, 0) + 1
            now = time.monotonic()
            count = collected.succeeded + collected.failed
            recent.append((now, count))
            t0, c0 = recent[0]
            rate = (count - c0) / (now - t0) if now > t0 else 0.0
            progress.update(task, completed=skipped + count, ok=skipped + collected.succeeded, failed=collected.failed,
                            flight=_flight(await r.hgetall(keys.workers)), rate=rate)
    return not pending


async def finish(r: Any, keys: Keys) -> None:
    """Every prompt has its result: workers may stop looking at this job; keep its keys a week (re-attach)."""
    await r.hset(keys.meta, "state", "finished")
    await r.zrem(JOBS_KEY, keys.job)
    pipe = r.pipeline(transaction=False)
    for key in keys.all():
        pipe.expire(key, KEEP_SECONDS)
    await pipe.execute()


async def run_distributed(specs: list[PromptSpec], options: RunOptions, *, redis_url: str, out_path: Path,
                          console: Console, source: str) -> RunOutcome:
    """`run --distribute`: the job on Redis, collected into ``out_path``; workers do the requests."""
    started = time.monotonic()
    try:
        r = await connect(redis_url)
    except RedisUnavailable as exc:
        console.print(f"claude-tui run: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        return RunOutcome(EXIT_FAILURES, 0, 0, 0, False)
    keys = Keys(job_id_for(specs, options.model, options.max_tokens, options.system))
    stop = asyncio.Event()
    signals = add_signal_handlers(stop.set, signal.SIGINT, signal.SIGTERM)
    collected = Collected()
    try:
        previous = read_results(out_path)
        known = {key: line for key, line in previous.latest.items() if line.get("status") == "succeeded"}
        before, added = await enqueue(r, keys, specs, options, source, known)
        state = "re-attached" if before else "enqueued"
        console.print(f"job {keys.job} {state}: {len(specs):,} prompts on {keys.prompts}"
                      + (f" ({before:,} already there, {added:,} added)" if before else "")
                      + "; start workers with: claude-tui worker --redis URL", markup=False, highlight=False, soft_wrap=True)
        complete = await collect(r, keys, specs, out_path, console, stop, collected)
        if complete:
            await finish(r, keys)
            dead = await r.xrange(keys.dead)
    except Exception as exc:  # noqa: BLE001 - Redis gone mid-run: one line; a re-run re-attaches
        from redis.exceptions import RedisError

        if not isinstance(exc, (RedisError, OSError)):
            raise
        console.print(f"claude-tui run: Redis failed ({exc}); run the same command again to re-attach",
                      style="red", markup=False, highlight=False, soft_wrap=True)
        return RunOutcome(EXIT_FAILURES, collected.succeeded, collected.failed, 0, False)
    finally:
        remove_signal_handlers(signals)
        await r.aclose()
    if complete:
        rewrite_latest(out_path)
    wall = time.monotonic() - started
    table = Table(title="claude-tui run --distribute — " + ("summary" if complete else "detached"), show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for name, value in [("job", keys.job), ("prompts", f"{len(specs):,}"), ("succeeded (this attach)", f"{collected.succeeded:,}"),
                        ("failed (dead-lettered)", f"{collected.failed:,}"),
                        ("results by worker", ", ".join(f"{w[-12:]} {n}" for w, n in sorted(collected.by_worker.items())) or "—"),
                        ("cost (estimate)", f"${collected.cost:,.4f}"), ("wall time", f"{wall:,.1f} s"),
                        ("results/s", f"{(collected.succeeded + collected.failed) / wall:,.2f}" if wall > 0 else "—")]:
        table.add_row(name, value)
    console.print(table)
    if not complete:
        console.print(f"detached: the job stays on Redis and workers go on; run the same command again to re-attach",
                      highlight=False, markup=False)
        return RunOutcome(EXIT_INTERRUPTED, collected.succeeded, collected.failed, 0, True)
    for fields in [f for _, f in dead][:20]:
        console.print(f"dead letter {fields.get('id')}: {fields.get('reason')}", style="red", markup=False,
                      highlight=False, soft_wrap=True)
    console.print(f"results: {out_path}", highlight=False, markup=False)
    return RunOutcome(EXIT_FAILURES if collected.failed else EXIT_OK, collected.succeeded, collected.failed, 0, False)
