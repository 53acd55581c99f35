"""StatsPanel: the live figures of the shared pool, from ``Metrics.snapshot()`` (the app feeds it 2×/s)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Sparkline, Static

from claude_tui.engine.metrics import MetricsSnapshot, Percentiles

from .. import fmt


def _pct_row(name: str, p: Percentiles) -> str:
    return f"{name:<8}{fmt.ms(p.p50):>9}{fmt.ms(p.p95):>9}{fmt.ms(p.p99):>9}"


def pool_lines(snap: MetricsSnapshot, limit: int) -> list[str]:
    success = "—" if snap.success_rate is None else f"{snap.success_rate * 100:.0f}%"
    return [
        f"in flight  {snap.in_flight} / {limit}",
        f"queued     {snap.queued}",
        f"done       {snap.done}   failed {snap.failed}",
        f"retries    {snap.retries}   429s {snap.rate_limited}",
        f"success    {success}",
    ]


def rate_lines(snap: MetricsSnapshot) -> list[str]:
    return [
        f"requests   {snap.requests_per_s:.2f}/s   (last min)",
        f"output     {snap.output_tokens_per_s:.1f} tok/s",
    ]


def latency_lines(snap: MetricsSnapshot) -> list[str]:
    return [
        f"{'':<8}{'p50':>9}{'p95':>9}{'p99':>9}",
        _pct_row("TTFT", snap.ttft),
        _pct_row("latency", snap.latency),
    ]


def token_lines(snap: MetricsSnapshot) -> list[str]:
    return [
        f"tokens in  {fmt.count(snap.input_tokens)}   out {fmt.count(snap.output_tokens)}",
        f"cost       {fmt.money(snap.cost)} (estimate)",
    ]


def limit_lines(snap: MetricsSnapshot, now_epoch: float | None = None) -> list[str]:
    rl = snap.last_rate_limits
    if rl is None:
        return ["no rate-limit headers yet"]
    now_epoch = time.time() if now_epoch is None else now_epoch

    def gauge(name: str, remaining: int | None, limit: int | None, reset: float | None) -> str:
        if remaining is None or not limit:
            return f"{name:<9}{'—':>7}"
        resets = f"  reset {max(0.0, reset - now_epoch):.0f} s" if reset else ""
        return f"{name:<9}{fmt.bar(remaining / limit, 10)} {fmt.count(remaining)}/{fmt.count(limit)}{resets}"

    return [
        gauge("requests", rl.requests_remaining, rl.requests_limit, rl.requests_reset),
        gauge("tokens", rl.tokens_remaining, rl.tokens_limit, rl.tokens_reset),
    ]


def tab_lines(snap: MetricsSnapshot | None, title: str) -> list[str]:
    if snap is None or (snap.done + snap.failed + snap.cancelled + snap.in_flight + snap.queued) == 0:
        return [f"{title}: no requests yet"]
    return [
        f"{title}",
        f"done {snap.done}  failed {snap.failed}  retries {snap.retries}",
        f"TTFT p50 {fmt.ms(snap.ttft.p50)}  lat p50 {fmt.ms(snap.latency.p50)}",
        f"tokens {fmt.count(snap.input_tokens)} in / {fmt.count(snap.output_tokens)} out",
        f"cost {fmt.money(snap.cost)} (estimate)",
    ]


class StatsPanel(VerticalScroll):
    """Pool, rates, latency percentiles, tokens and cost, rate-limit gauges, sparklines, focused tab."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="stats-panel")
        self.last_snapshot: MetricsSnapshot | None = None
        self.last_limit: int | None = None
        self._sections: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        for key, title in (
            ("pool", "pool"),
            ("rates", "throughput"),
            ("latency", "latency"),
            ("tokens", "tokens & cost"),
            ("limits", "rate limits"),
        ):
            yield Label(title, classes="stats-title")
            self._sections[key] = Static("", markup=False, classes=f"stats-body stats-{key}")
            yield self._sections[key]
        yield Label("throughput (req/s, 3 min)", classes="stats-title")
        yield Sparkline([0.0], id="spark-throughput", classes="stats-spark")
        yield Label("latency (s, 3 min)", classes="stats-title")
        yield Sparkline([0.0], id="spark-latency", classes="stats-spark")
        yield Label("this tab", classes="stats-title")
        self._sections["tab"] = Static("", markup=False, classes="stats-body stats-tab")
        yield self._sections["tab"]

    def show(self, snap: MetricsSnapshot, limit: int, tab: MetricsSnapshot | None, tab_title: str) -> None:
        self.last_snapshot = snap
        self.last_limit = limit
        s = self._sections
        s["pool"].update(Text("\n".join(pool_lines(snap, limit))))
        s["rates"].update(Text("\n".join(rate_lines(snap))))
        s["latency"].update(Text("\n".join(latency_lines(snap))))
        s["tokens"].update(Text("\n".join(token_lines(snap))))
        s["limits"].update(Text("\n".join(limit_lines(snap))))
        s["tab"].update(Text("\n".join(tab_lines(tab, tab_title))))
        throughput = self.query_one("#spark-throughput", Sparkline)
        latency = self.query_one("#spark-latency", Sparkline)
        if list(throughput.data or []) != snap.throughput_history:
            throughput.data = snap.throughput_history or [0.0]
        if list(latency.data or []) != snap.latency_history:
            latency.data = snap.latency_history or [0.0]

    def section_text(self, key: str) -> str:
        return str(self._sections[key].render())
