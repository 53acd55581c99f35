"""What a headless run shows: a live progress line while it runs and a summary table at the end."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..engine.budget import BudgetSnapshot
from ..engine.budget_advice import advise
from ..engine.errors import hint_for
from ..engine.metrics import MetricsSnapshot, Percentiles


def say(console: Console, line: str, *, style: str | None = None) -> None:
    """One notice line, as written: no markup, no highlighting, never wrapped mid-path.

    Every line `run` prints goes through its console (the progress bar's too), so rich clears the
    bar, prints the line and draws the bar again below it. A raw write to stderr relied on rich's
    Live proxying ``sys.stderr`` (only on a terminal, and without the notice's style).
    """
    console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def limiter_notice(before: BudgetSnapshot | None, now: BudgetSnapshot) -> tuple[BudgetSnapshot, str | None]:
    """A line when the limiter's mode changes (Redis lost: pacing locally; Redis back), else None.

    The peer count is left out: processes joining a shared budget is not news.
    """
    if before is not None and (before.mode, before.reason) == (now.mode, now.reason):
        return before, None
    if before is None and now.mode == "local" and not now.reason:
        return now, None
    return now, now.mode_text


def make_progress(console: Console) -> Progress:
    """One line that fits 80 columns: bar, counts, rate, elapsed and ETA (retries appear when there are any)."""
    return Progress(
        BarColumn(bar_width=12),
        MofNCompleteColumn(),
        TextColumn(
            "[green]{task.fields[done]} ok[/] [red]{task.fields[failed]} failed[/] "
            "{task.fields[in_flight]} running {task.fields[queued]} queued"
        ),
        TextColumn("{task.fields[rps]:.2f}/s{task.fields[backoff]}"),
        TextColumn("ETA"),
        TimeRemainingColumn(compact=True),
        console=console,
        transient=False,
        refresh_per_second=5,
    )


def progress_fields(snap: MetricsSnapshot) -> dict[str, Any]:
    return {
        "done": snap.done,
        "failed": snap.failed,
        "queued": snap.queued,
        "in_flight": snap.in_flight,
        "rps": snap.requests_per_s,
        "backoff": f" [yellow]{snap.retries} retried[/]" if snap.retries else "",
    }


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:,.0f}"


def _pct_row(name: str, pct: Percentiles) -> tuple[str, str, str, str, str]:
    return (name, _ms(pct.mean), _ms(pct.p50), _ms(pct.p95), _ms(pct.p99))


def summary_tables(snap: MetricsSnapshot, *, wall_time: float, skipped: int = 0, interrupted: bool = False) -> list[Table]:
    """The end-of-run summary: counts and rates, then latency percentiles."""
    counts = Table(title="claude-tui run — interrupted" if interrupted else "claude-tui run — summary", show_header=False)
    counts.add_column("figure", style="bold")
    counts.add_column("value", justify="right")
    requests = snap.done + snap.failed + snap.cancelled
    rows: list[tuple[str, str]] = [
        ("requests", f"{requests:,}"),
        ("succeeded", f"{snap.done:,}"),
        ("failed", f"{snap.failed:,}"),
    ]
    if snap.cut_at_max_tokens:
        rows.append(("cut at max_tokens", f"{snap.cut_at_max_tokens:,}"))
    if snap.cancelled:
        rows.append(("cancelled", f"{snap.cancelled:,}"))
    if skipped:
        rows.append(("skipped (already done)", f"{skipped:,}"))
    rows += [
        ("attempts", f"{snap.attempts:,}"),
        ("retries", f"{snap.retries:,}"),
        ("429s", f"{snap.rate_limited:,}"),
        ("wall time", f"{wall_time:,.1f} s"),
        ("requests/s", f"{snap.done / wall_time:,.2f}" if wall_time > 0 else "—"),
        ("output tokens/s", f"{snap.output_tokens / wall_time:,.0f}" if wall_time > 0 else "—"),
        ("tokens in / out", f"{snap.input_tokens:,} / {snap.output_tokens:,}"),
        ("cost (estimate)", f"${snap.cost:,.4f}"),
    ]
    for name, value in rows:
        counts.add_row(name, value)
    latency = Table(title="latency (ms)")
    for column in ("", "mean", "p50", "p95", "p99"):
        latency.add_column(column, justify="right" if column else "left")
    latency.add_row(*_pct_row("TTFT", snap.ttft))
    # What a prompt waited, submit → reply: its queue turn, retries, backoff and budget waits
    # included (the final attempt alone hid 30–40 s waits under 429 pacing behind a 2 s p99).
    latency.add_row(*_pct_row("end to end (submit → reply)", snap.total))
    latency.add_row(*_pct_row("final attempt only", snap.latency))
    latency.add_row(*_pct_row("per output token", snap.tpot))
    return [counts, latency]


def failure_lines(failures: dict[str, tuple[int, str]]) -> list[str]:
    """One line per kind of failure, most frequent first, with what to do about it."""
    lines = []
    for kind, (count, message) in sorted(failures.items(), key=lambda item: -item[1][0]):
        hint = hint_for(kind, front_end="run")  # type: ignore[arg-type]
        lines.append(f"{count} failed: {message}" + (f" — {hint}" if hint else ""))
    return lines


def budget_lines(budget: BudgetSnapshot | None, snap: MetricsSnapshot) -> list[str]:
    """The limiter's mode and, when the budget paced the run, which limit bound it and the lever."""
    if budget is None:
        line = "limiter: off"
        if snap.rate_limited:
            line += f" — {snap.rate_limited} of {snap.attempts} attempts answered 429; --limiter on paces ahead of the limits"
        return [line]
    lines = [budget.summary_line()]
    if budget.classes:
        lines += advise(budget, waiting=snap.queued).lines
    return lines
