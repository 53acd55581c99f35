"""`claude-tui worker --redis URL`: take prompts from every open job, run them, write each result once.

Delivery is Redis Streams' own: ``XREADGROUP`` hands each entry to one consumer and keeps it in the
group's pending list until ``XACK``; a worker that dies leaves its entries pending, and after
``claim_idle`` any worker takes them over with ``XAUTOCLAIM`` (which counts the delivery). While a
request runs, its entry's idle time is reset (``XCLAIM … JUSTID``, which does not count a delivery),
so a slow request is not stolen from a live worker. A failed or interrupted request is released at
once (``XCLAIM … IDLE claim_idle JUSTID``): it stays pending but any worker may claim it now. An
entry claimed more than ``max_deliveries`` times goes to the dead-letter stream with the last error.
Results are written with ``HSETNX`` by custom_id, announced and acknowledged in one script, so
at-least-once delivery still leaves exactly one result per prompt.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from ..engine.events import AttemptFailed, Done, Failed, JobEvent
from ..engine.job import Correlation, Job
from ..engine.pool import RequestPool
from ..headless.results import result_record
from ..headless.run import RunOptions
from ..services import close_pool, open_pool
from ..headless.interrupts import add_signal_handlers
from .layout import DEAD_LETTER, GROUP, JOBS_KEY, MAX_DELIVERIES, RECORD, Keys, loads

READ_BLOCK_MS = 1000  # how long one XREADGROUP waits for new entries (also the Ctrl-C latency)
PUBLISH_SECONDS = 1.0  # how often a worker tells submitters what it holds


@dataclass(frozen=True)
class WorkerOptions:
    claim_idle: float = 60.0  # seconds an entry sits unacknowledged before another worker may take it
    max_deliveries: int = MAX_DELIVERIES
    job: str | None = None  # serve only this job (default: every open job)
    name: str | None = None  # the consumer name (default: host-pid-random)


@dataclass
class _Held:
    job: str
    entry: str
    cid: str


@dataclass
class WorkerStats:
    done: int = 0  # results this worker wrote
    duplicate: int = 0  # finished, but another delivery had written the result first
    failed: int = 0  # failed attempts released for another delivery
    claimed: int = 0  # entries taken over with XAUTOCLAIM
    dead: int = 0  # entries this worker dead-lettered
    rate_limited: int = 0  # 429s seen
    per_job: dict[str, list[int]] = field(default_factory=dict)  # job → [done, failed]


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"


class Worker:
    def __init__(self, r: Any, pool: RequestPool, wopts: WorkerOptions, *,
                 notify: Callable[[str], None] | None = None) -> None:
        self.r = r
        self.notify = notify or (lambda _message: None)
        self.pool = pool
        self.wopts = wopts
        self.name = wopts.name or consumer_name()
        self.stats = WorkerStats()
        self.held: dict[str, _Held] = {}  # pool job id → the entry it came from
        self.tasks: set[asyncio.Task[None]] = set()
        self.stop = asyncio.Event()
        self.slot_free = asyncio.Event()
        self.jobs: list[str] = []
        self.redis_down: str | None = None  # why Redis cannot be used right now, while it cannot
        self._last_claim = self._last_publish = 0.0
        self._record = r.register_script(RECORD)
        self._dead = r.register_script(DEAD_LETTER)
        pool.add_listener(self._observe)

    def _observe(self, event: JobEvent) -> None:
        if isinstance(event, AttemptFailed) and event.status_code == 429:
            self.stats.rate_limited += 1

    @property
    def free(self) -> int:
        return max(0, self.pool.limit - len(self.held))

    # -- the loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Serve until ``stop``. Redis going away does not end the worker: it says so, keeps its
        requests running (their results are written if Redis is back in time, else the entries are
        delivered again) and reconnects every second."""
        from redis.exceptions import RedisError

        self._last_claim = self._last_publish = 0.0
        try:
            while not self.stop.is_set():
                try:
                    await self._step()
                    if self.redis_down:
                        self.redis_down = None
                        self.notify(f"worker {self.name}: Redis reachable again")
                except (RedisError, OSError) as exc:
                    if not self.redis_down:
                        self.notify(f"worker {self.name}: Redis unreachable ({exc or type(exc).__name__}); "
                                    "requests in flight go on, retrying every second")
                    self.redis_down = str(exc) or type(exc).__name__
                    await self._wait(self.stop, 1.0)
        finally:
            await self._release_all()

    async def _step(self) -> None:
        now = time.monotonic()
        refresh = max(0.2, self.wopts.claim_idle / 3)
        if now - self._last_publish >= min(PUBLISH_SECONDS, refresh):
            self.jobs = await self._open_jobs()
            await self._refresh()
            await self._publish()
            self._last_publish = now
        if not self.jobs:
            await self._wait(self.stop, 1.0)
            return
        if self.free and now - self._last_claim >= max(0.2, min(self.wopts.claim_idle / 2, 5.0)):
            await self._claim()
            self._last_claim = now
        if self.free:
            await self._read()
        else:
            self.slot_free.clear()
            await self._wait(self.slot_free, 1.0)

    @staticmethod
    async def _wait(event: asyncio.Event, timeout: float) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass

    async def _open_jobs(self) -> list[str]:
        if self.wopts.job:
            return [self.wopts.job]
        return list(await self.r.zrange(JOBS_KEY, 0, -1))

    async def _read(self) -> None:
        from redis.exceptions import ResponseError

        streams = {Keys(job).prompts: ">" for job in self.jobs}
        try:
            reply = await self.r.xreadgroup(GROUP, self.name, streams, count=self.free, block=READ_BLOCK_MS)
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # a job's keys expired or were removed: look again next round
                self.jobs = []
                return
            raise
        for stream, entries in reply or []:
            job = stream.split("claude-tui:job:", 1)[1].split("}", 1)[0]
            for eid, fields in entries:
                self._start(job, eid, fields)

    async def _claim(self) -> None:
        """Take over entries idle past ``claim_idle`` (a crashed or released holder's), dead-lettering
        those delivered more than ``max_deliveries`` times."""
        idle_ms = int(self.wopts.claim_idle * 1000)
        for job in self.jobs:
            keys = Keys(job)
            if not self.free:
                return
            try:
                _cursor, entries, *_deleted = await self.r.xautoclaim(keys.prompts, GROUP, self.name, idle_ms, "0-0", count=self.free)
            except Exception:  # noqa: BLE001 - a job that vanished: nothing to claim
                continue
            entries = [(eid, fields) for eid, fields in entries if fields]
            if not entries:
                continue
            pipe = self.r.pipeline(transaction=False)
            for eid, _ in entries:
                pipe.xpending_range(keys.prompts, GROUP, eid, eid, 1)
            counts = [rows[0]["times_delivered"] if rows else 1 for rows in await pipe.execute()]
            for (eid, fields), deliveries in zip(entries, counts):
                self.stats.claimed += 1
                if deliveries > self.wopts.max_deliveries:
                    await self._dead_letter(keys, eid, fields, deliveries)
                else:
                    self._start(job, eid, fields)

    async def _dead_letter(self, keys: Keys, eid: str, fields: dict[str, str], deliveries: int) -> None:
        cid = fields.get("id", "?")
        last = await self.r.hget(keys.errors, cid)
        reason = f"delivered {deliveries} times without a result (max {self.wopts.max_deliveries}); " + (
            f"last error: {last}" if last else "the workers holding it stopped before finishing")
        req = loads(fields.get("request")) or {}
        record = {"id": fields.get("spec_id", cid), "status": "failed", "text": "", "usage": None, "ttft_ms": None,
                  "latency_ms": None, "attempts": deliveries, "model": req.get("model"), "request_id": None,
                  "error": {"kind": "dead_letter", "message": reason}, "mode": "distributed", "worker": self.name,
                  "finished_at": round(time.time(), 3)}
        if await self._dead(keys=[keys.results, keys.done, keys.prompts, keys.dead],
                            args=[cid, json.dumps(record, ensure_ascii=False), GROUP, eid, deliveries, reason]):
            self.stats.dead += 1
            self.stats.per_job.setdefault(keys.job, [0, 0])[1] += 1

    # -- one entry ----------------------------------------------------------------------------
    def _start(self, job: str, eid: str, fields: dict[str, str]) -> None:
        req = loads(fields.get("request"))
        cid = fields.get("id")
        if req is None or not cid or not isinstance(req.get("prompt"), str):
            return  # not ours to run (left pending; it dead-letters after max_deliveries)
        pool_job = Job.from_prompt(req["prompt"], model=req.get("model") or "claude-sonnet-4-6",
                                   max_tokens=int(req.get("max_tokens") or 1024), system=req.get("system"),
                                   correlation=Correlation(item=fields.get("spec_id", cid)))
        self.held[pool_job.id] = _Held(job, eid, cid)
        task = asyncio.get_running_loop().create_task(self._run_one(pool_job, fields.get("spec_id", cid)))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run_one(self, pool_job: Job, spec_id: str) -> None:
        held = self.held[pool_job.id]
        keys = Keys(held.job)
        try:
            if await self.r.hexists(keys.results, held.cid):  # finished elsewhere (a redelivery): just acknowledge
                await self.r.xack(keys.prompts, GROUP, held.entry)
                self.stats.duplicate += 1
                return
            outcome = await self.pool.submit(pool_job, stream_events=False).result()
            if isinstance(outcome, Done):
                record = result_record(spec_id, pool_job.model, outcome)
                record.update(mode="distributed", worker=self.name, finished_at=round(time.time(), 3))
                wrote = await self._record(keys=[keys.results, keys.done, keys.prompts],
                                           args=[held.cid, json.dumps(record, ensure_ascii=False), GROUP, held.entry, "succeeded"])
                if wrote:
                    self.stats.done += 1
                    self.stats.per_job.setdefault(held.job, [0, 0])[0] += 1
                else:
                    self.stats.duplicate += 1
                return
            if isinstance(outcome, Failed):
                self.stats.failed += 1
                await self.r.hset(keys.errors, held.cid, f"{outcome.kind}: {outcome.message}")
            await self._release([held])
        except Exception as exc:  # noqa: BLE001 - Redis failed here: the entry stays pending and is redelivered
            from redis.exceptions import RedisError

            if not isinstance(exc, (RedisError, OSError)):
                raise
            self.stats.failed += 1
        finally:
            self.held.pop(pool_job.id, None)
            self.slot_free.set()

    # -- keeping and giving back entries ------------------------------------------------------
    async def _refresh(self) -> None:
        """Reset the idle time of the entries in flight here (JUSTID: no delivery is counted)."""
        by_job: dict[str, list[str]] = {}
        for held in list(self.held.values()):
            by_job.setdefault(held.job, []).append(held.entry)
        for job, ids in by_job.items():
            try:
                await self.r.xclaim(Keys(job).prompts, GROUP, self.name, 0, ids, justid=True)
            except Exception:  # noqa: BLE001 - the job's keys are gone; its entries no longer matter
                pass

    async def _release(self, items: Sequence[_Held]) -> None:
        """Leave entries pending but idle already, so any worker's next XAUTOCLAIM takes them."""
        idle_ms = int(self.wopts.claim_idle * 1000)
        for held in items:
            try:
                await self.r.xclaim(Keys(held.job).prompts, GROUP, self.name, 0, [held.entry], idle=idle_ms, justid=True)
            except Exception:  # noqa: BLE001 - Redis gone: the entry is pending anyway, claimed after claim_idle
                pass

    async def _release_all(self) -> None:
        held = list(self.held.values())
        self.pool.cancel_all()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self._release(held)
        await self._publish(leaving=True)

    async def _publish(self, leaving: bool = False) -> None:
        in_flight: dict[str, int] = {}
        for held in self.held.values():
            in_flight[held.job] = in_flight.get(held.job, 0) + 1
        pipe = self.r.pipeline(transaction=False)
        for job in set(self.jobs) | set(in_flight):
            done, failed = self.stats.per_job.get(job, [0, 0])
            if leaving:
                pipe.hdel(Keys(job).workers, self.name)
            else:
                pipe.hset(Keys(job).workers, self.name, json.dumps(
                    {"in_flight": in_flight.get(job, 0), "done": done, "failed": failed, "at": time.time()}))
        try:
            await pipe.execute()
        except Exception:  # noqa: BLE001 - progress for the submitter's bar only
            pass

    def line(self) -> str:
        s = self.stats
        if self.redis_down:
            return f"worker {self.name}: Redis unreachable ({self.redis_down}); retrying every second"
        return (f"worker {self.name}: {s.done:,} ok, {s.failed:,} failed attempts, {len(self.held)} in flight, "
                f"{s.claimed:,} claimed, {s.dead:,} dead-lettered, {s.duplicate:,} already done, "
                f"{s.rate_limited:,} 429s; jobs open: {len(self.jobs)}")


async def run_worker(options: RunOptions, wopts: WorkerOptions, *, redis_url: str, api_key: str, base_url: str | None,
                     console: Console, listeners: Sequence[Callable[[JobEvent], None]] = ()) -> int:
    """Serve open jobs until Ctrl-C / SIGTERM; returns the exit code (0 on a clean stop)."""
    from .submit import RedisUnavailable, connect

    try:
        r = await connect(redis_url)
    except RedisUnavailable as exc:
        console.print(f"claude-tui worker: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        return 1
    pool = await open_pool(api_key=api_key, base_url=base_url, concurrency=options.concurrency, policy=options.policy,
                           stall_timeout=options.stall_timeout, prices=options.prices, limits=options.limits)
    budget = pool.budget
    for listener in listeners:
        pool.add_listener(listener)
    worker = Worker(r, pool, wopts, notify=lambda message: console.print(
        message, style="yellow", markup=False, highlight=False, soft_wrap=True))
    loop = asyncio.get_running_loop()
    add_signal_handlers(worker.stop.set, signal.SIGINT, signal.SIGTERM)  # until the loop ends
    console.print(f"worker {worker.name} on {redis_url.split('@')[-1]}: concurrency {options.concurrency}, "
                  f"claim after {wopts.claim_idle:g} s idle, dead letter after {wopts.max_deliveries} deliveries",
                  markup=False, highlight=False, soft_wrap=True)
    code = 0
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True)
    ticker: asyncio.Task[None] | None = None
    try:
        with progress:
            task = progress.add_task(worker.line(), total=None)

            async def tick() -> None:
                while True:
                    progress.update(task, description=worker.line())
                    await asyncio.sleep(0.5)  # a display refresh, not synchronisation

            ticker = loop.create_task(tick())
            await worker.run()
    except Exception as exc:  # noqa: BLE001 - Redis gone: one line; entries stay pending for others
        from redis.exceptions import RedisError

        if not isinstance(exc, (RedisError, OSError)):
            raise
        console.print(f"claude-tui worker: Redis failed ({exc}); its entries stay pending for other workers",
                      style="red", markup=False, highlight=False, soft_wrap=True)
        code = 1
    finally:
        if ticker is not None:
            ticker.cancel()
        await close_pool(pool)
        await r.aclose()
    console.print(worker.line().replace("in flight", "in flight at exit"), markup=False, highlight=False, soft_wrap=True)
    console.print(budget.snapshot().summary_line() if budget is not None else "limiter: off", markup=False, highlight=False)
    return code
