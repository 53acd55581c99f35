"""`claude-tui run FILE`: the same pool the TUI uses, over a file of prompts, with resumable JSONL output."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Sequence

from rich.console import Console

from ..engine.events import Cancelled, Done, Failed, JobEvent, Started, Submitted
from ..engine.job import Correlation, Job
from ..engine.metrics import Metrics
from ..engine.pricing import PriceTable
from ..engine.retry import RetryPolicy
from ..gc_policy import start_up_done
from ..logs import notices_to
from ..services import close_pool, open_pool
from .prompts import PromptSpec
from .report import budget_lines, failure_lines, limiter_notice, make_progress, progress_fields, say, summary_tables
from .interrupts import add_signal_handlers, remove_signal_handlers
from .results import ResultWriter, open_for_append, read_results, result_record, rewrite_latest

if TYPE_CHECKING:
    from ..config import LimitSettings

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130



@dataclass(frozen=True)
class RunOptions:
    model: str
    max_tokens: int
    system: str | None
    concurrency: int
    policy: RetryPolicy
    stall_timeout: float | None
    prices: PriceTable | None = None
    limits: "LimitSettings | None" = None  # the rate-limit budget (None: no pacing)


@dataclass
class RunOutcome:
    exit_code: int
    succeeded: int
    failed: int
    skipped: int
    interrupted: bool


def _job_for(spec: PromptSpec, options: RunOptions) -> Job:
    return Job.from_prompt(
        spec.prompt,
        model=spec.model or options.model,
        max_tokens=spec.max_tokens or options.max_tokens,
        system=spec.system if spec.system is not None else options.system,
        correlation=Correlation(item=spec.id),
    )


async def run_batch(
    specs: list[PromptSpec],
    options: RunOptions,
    *,
    api_key: str,
    base_url: str | None,
    out_path: Path | None,
    console: Console,
    results_stream: IO[str] | None = None,
    listeners: Sequence[Callable[[JobEvent], None]] = (),
) -> RunOutcome:
    """Run every spec not already succeeded in ``out_path``; write a line per finished prompt.

    The results writer is the pool's one *critical* listener: if a result cannot be written
    (disk full, a file-size limit), the run stops at once instead of paying for replies it loses.
    """
    skip: set[str] = set()
    if out_path is not None:
        previous = read_results(out_path)
        if previous.unreadable:
            numbers = ", ".join(map(str, previous.unreadable[:20])) + (" …" if len(previous.unreadable) > 20 else "")
            say(console, f"{out_path}: ignored unreadable line{'s' if len(previous.unreadable) > 1 else ''} {numbers}"
                " (not a JSON result; dropped when the file is rewritten)", style="yellow")
        skip = previous.succeeded() & {spec.id for spec in specs}
        if skip:
            say(console, f"resuming: {len(skip)} of {len(specs)} already succeeded in {out_path}")
    todo = [spec for spec in specs if spec.id not in skip]
    out_name = str(out_path) if out_path else "<stdout>"
    try:
        out = open_for_append(out_path) if out_path else (results_stream or sys.stdout)
    except OSError as exc:
        say(console, f"cannot write results to {out_name}: {exc.strerror or exc}", style="red")
        return RunOutcome(EXIT_FAILURES, 0, 0, len(skip), False)
    pool = await open_pool(api_key=api_key, base_url=base_url, concurrency=options.concurrency, policy=options.policy,
                           stall_timeout=options.stall_timeout, prices=options.prices, limits=options.limits)
    budget = pool.budget
    limiter = budget.snapshot() if budget is not None else None
    if limiter is not None and limiter.reason:  # pacing locally although a shared budget was asked for
        say(console, limiter.mode_text, style="yellow")
    metrics = Metrics(prices=pool.prices, per_tag=False, keep_values=True)  # exact figures for the summary
    pool.add_listener(metrics.observe)
    for listener in listeners:
        pool.add_listener(listener)
    jobs: dict[str, Job] = {}  # learned from each job's Submitted event, as every consumer learns it
    started_jobs: set[str] = set()
    failures: dict[str, tuple[int, str]] = {}  # kind → (count, first message)
    finished = asyncio.Event()
    remaining = len(todo)
    # The pool gets the prompts a few at a time, ahead of its free slots: all 50,000 at once kept a
    # Job, a handle and a future per prompt alive (peak RSS 262 MB; the goal is < 250 MB).
    ahead = max(64, options.concurrency * 4)
    pending = iter(todo)
    unsubmitted = len(todo)
    interrupted = False
    loop = asyncio.get_running_loop()

    write_error: BaseException | None = None
    try:
        writer = ResultWriter(out)

        def on_event(event: JobEvent) -> None:
            nonlocal remaining
            if isinstance(event, Submitted):
                jobs[event.job_id] = event.job
            elif isinstance(event, Started):
                started_jobs.add(event.job_id)
            elif isinstance(event, (Done, Failed, Cancelled)):
                job = jobs.pop(event.job_id, None)
                if job is None or job.correlation.item is None:
                    return
                if isinstance(event, Failed):
                    count, message = failures.get(event.kind, (0, event.message))
                    failures[event.kind] = (count + 1, message)
                # A job cancelled before it ever started has nothing to report; a re-run will do it.
                if not isinstance(event, Cancelled) or event.job_id in started_jobs:
                    writer.write(result_record(job.correlation.item, job.model, event))
                started_jobs.discard(event.job_id)
                remaining -= 1
                if remaining == 0:
                    finished.set()
                elif unsubmitted:
                    loop.call_soon(feed, 1)

        def feed(count: int) -> None:
            nonlocal unsubmitted
            if interrupted or pool.fatal is not None:
                return
            for spec in islice(pending, count):
                unsubmitted -= 1
                pool.submit(_job_for(spec, options), stream_events=False)

        pool.add_listener(on_event, critical=True)

        def interrupt() -> None:
            nonlocal interrupted, remaining, unsubmitted
            interrupted = True
            remaining -= unsubmitted  # never submitted: nothing to cancel, nothing to report
            unsubmitted = 0
            if remaining == 0:
                finished.set()
            pool.cancel_all()

        handlers = add_signal_handlers(interrupt, signal.SIGINT, signal.SIGTERM)
        started_at = time.monotonic()
        progress = make_progress(console)
        fatal = asyncio.ensure_future(pool.wait_fatal())
        all_done = asyncio.ensure_future(finished.wait())
        def notify(message: str) -> None:
            # Through the progress's console, so a notice never lands in the middle of the bar:
            # rich clears the bar, prints the line and draws the bar again below it.
            say(progress.console, f"claude-tui: {message}", style="yellow")

        try:
            with progress, notices_to(notify):
                task = progress.add_task("run", total=len(todo), **progress_fields(metrics.snapshot()))
                feed(ahead)
                start_up_done()  # the first requests are under way: the collector may run again (see gc_policy)
                if not todo:
                    finished.set()
                while not finished.is_set() and not fatal.done():
                    await asyncio.wait((fatal, all_done), timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
                    snap = metrics.snapshot()
                    progress.update(task, completed=snap.done + snap.failed + snap.cancelled, **progress_fields(snap))
                    if budget is not None:  # Redis lost or back: say so when it happens, not only in the summary
                        limiter, line = limiter_notice(limiter, budget.snapshot())
                        if line:
                            notify(line)
                snap = metrics.snapshot()
                progress.update(task, completed=snap.done + snap.failed + snap.cancelled, **progress_fields(snap))
        finally:
            remove_signal_handlers(handlers)
            await close_pool(pool)
            fatal.cancel()
            all_done.cancel()
        write_error = pool.fatal
    finally:
        if out_path is not None:
            try:
                out.close()
            except OSError as exc:  # the buffered tail of a failed write fails again on close
                write_error = write_error or exc
    if out_path is not None and write_error is None:
        try:
            rewrite_latest(out_path)  # one line per id; the appended log stays valid if this fails
        except OSError as exc:
            say(console, f"{out_path}: could not rewrite to one line per id ({exc.strerror or exc}); "
                "it still holds every result (latest line per id wins)", style="yellow")
    wall = time.monotonic() - started_at
    snap = metrics.snapshot(exact=True)
    for table in summary_tables(snap, wall_time=wall, skipped=len(specs) - len(todo), interrupted=interrupted):
        console.print(table)
    for line in budget_lines(budget.snapshot() if budget is not None else None, snap):
        say(console, line)
    for line in failure_lines(failures):
        say(console, line, style="red")
    if write_error is not None:
        reason = getattr(write_error, "strerror", None) or str(write_error)
        say(console, f"cannot write results to {out_name}: {reason}", style="red")
        return RunOutcome(EXIT_FAILURES, snap.done, snap.failed, len(specs) - len(todo), interrupted)
    if out_path:
        say(console, f"results: {out_path}")
    code = EXIT_INTERRUPTED if interrupted else (EXIT_FAILURES if snap.failed else EXIT_OK)
    return RunOutcome(code, snap.done, snap.failed, len(specs) - len(todo), interrupted)
