"""StatsPanel: the live figures of the shared pool, from ``Metrics.snapshot()`` (the app feeds it 2×/s)."""

from __future__ import annotations

import math
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Label, Sparkline, Static

from claude_tui.engine.budget import DIMENSIONS, BudgetSnapshot
from claude_tui.engine.budget_advice import WORDS, Advice, advise
from claude_tui.engine.metrics import MetricsSnapshot, Percentiles

from .. import fmt
from ..tab_model import TabState, Turn


#: The panel's text width: 44 columns less its border, padding and scrollbar. Every line is drawn
#: unwrapped (``_lines``) and built to fit it, so no figure's unit ever lands on a line of its own.
WIDTH = 40


def _lines(lines: list[str]) -> Text:
    return Text("\n".join(lines), no_wrap=True, overflow="ellipsis")


def _pct_row(name: str, p: Percentiles) -> str:
    return f"{name:<8}{fmt.ms(p.p50):>9}{fmt.ms(p.p95):>9}{fmt.ms(p.p99):>9}"


def pool_lines(snap: MetricsSnapshot, limit: int, in_tabs: int = 0) -> list[str]:
    """``queued`` counts the prompts waiting in a tab for its previous reply (the tab label's ``+N``) too:
    both wait for the same pool, and a tab's next prompt only reaches the pool's queue when its reply ends."""
    success = "—" if snap.success_rate is None else f"{snap.success_rate * 100:.0f}%"
    queued = f"queued     {snap.queued + in_tabs}"
    if in_tabs:
        queued += f"   {in_tabs} of them in tabs (+N)"
    return [
        f"in flight  {snap.in_flight} / {limit}",
        queued,
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


def cache_lines(snap: MetricsSnapshot) -> list[str]:
    """The prompt cache: its share of the input (hit ratio) and what it saved (``Price.cache_saving``)."""
    ratio = snap.cache_hit_ratio
    if not (snap.cache_read_tokens or snap.cache_write_tokens):
        return ["cache      no cached input yet"]
    hit = "—" if ratio is None else f"{ratio * 100:.0f}%"
    saved = f"saved {fmt.money(snap.cache_saved)}" if snap.cache_saved >= 0 else f"cost +{fmt.money(-snap.cache_saved)}"
    return [
        f"cache      read {fmt.count(snap.cache_read_tokens)} · written {fmt.count(snap.cache_write_tokens)}",
        f"hit ratio  {hit} of input · {saved}",
    ]


def token_lines(snap: MetricsSnapshot, history_spend: dict[str, float] | None = None) -> list[str]:
    """This session's tokens, cache and cost; with a history, every session's spend, live and batch apart
    (Message Batches bill at half price, so a batch dollar buys twice the tokens)."""
    lines = [
        f"tokens in  {fmt.count(snap.input_tokens)}   out {fmt.count(snap.output_tokens)}",
        *cache_lines(snap),
        f"cost       {fmt.money(snap.cost)} (estimate)",
    ]
    if history_spend:
        lines.append(f"history    live {fmt.money(history_spend.get('live', 0.0))} · "
                     f"batch {fmt.money(history_spend.get('batch', 0.0))}")
    return lines


LIMIT_BAR = 8


def limit_lines(snap: MetricsSnapshot, now_epoch: float | None = None, capacity: dict[str, int] | None = None) -> list[str]:
    """The API's own rate-limit headers as a table: a bar that fills as the limit is *used*, the limit
    per minute, and when it is whole again.

    ``used`` is of the bucket: ``remaining`` against the most ever seen remaining (``capacity``, which
    the caller keeps across snapshots). A server that refills continuously up to the limit shows
    ``remaining == limit`` when idle; one whose bucket holds a few seconds of refill (the simulator's,
    the API's "60 RPM may be enforced as 1 a second") shows less, and against the limit it would read
    as nearly exhausted while idle. Every line fits ``WIDTH``; the header names each column above it.
    """
    rl = snap.last_rate_limits
    if rl is None:
        return ["no rate-limit headers yet"]
    now_epoch = time.time() if now_epoch is None else now_epoch
    seen = capacity if capacity is not None else {}

    def gauge(name: str, remaining: int | None, limit: int | None, reset: float | None) -> str:
        if remaining is None or not limit:
            return f"{name:<10}{'—':<13}"
        full = seen[name] = max(seen.get(name, 0), remaining, 1)
        used = max(0.0, min(1.0, 1 - remaining / full))
        resets = f"{max(0.0, reset - now_epoch):.0f}\u00a0s" if reset else "—"
        return f"{name:<10}{fmt.bar(used, LIMIT_BAR)} {used * 100:>3.0f}%{fmt.count(limit):>8}{resets:>7}"

    return [
        f"{'':<10}{'used':<13}{'/min':>8}{'reset':>7}",
        gauge("requests", rl.requests_remaining, rl.requests_limit, rl.requests_reset),
        gauge("tokens", rl.tokens_remaining, rl.tokens_limit, rl.tokens_reset),
    ]


def live_line(turn: Turn | None, now: float | None = None) -> str | None:
    """The reply streaming in this tab, while it streams: tokens so far (≈ 4 characters a token; the
    exact count comes with the reply's usage), tok/s since the first token, and time since it was sent."""
    if turn is None or turn.since is None or turn.state not in (TabState.WAITING, TabState.STREAMING):
        return None
    now = time.monotonic() if now is None else now
    elapsed = now - turn.since
    if turn.state is TabState.WAITING or turn.first_token_at is None:
        return f"now        waiting {elapsed:.1f} s for a token"
    tokens = math.ceil(len(turn.text) / 4)
    streaming = now - turn.first_token_at
    rate = f"{tokens / streaming:.0f} tok/s" if streaming > 0.2 else "— tok/s"
    return f"now        ≈{fmt.count(tokens)} tok · {rate} · {elapsed:.1f} s"


def tab_lines(snap: MetricsSnapshot | None, title: str, live: Turn | None = None) -> list[str]:
    now = live_line(live)
    if snap is None or (snap.done + snap.failed + snap.cancelled + snap.in_flight + snap.queued) == 0:
        return [f"{title}: no requests yet"] if now is None else [title, now]
    lines = [
        f"{title}",
        f"done {snap.done}  failed {snap.failed}  retries {snap.retries}",
        f"TTFT p50 {fmt.ms(snap.ttft.p50)}  lat p50 {fmt.ms(snap.latency.p50)}",
        f"tokens {fmt.count(snap.input_tokens)} in / {fmt.count(snap.output_tokens)} out",
        f"cost {fmt.money(snap.cost)} (estimate)",
    ]
    if snap.cache_read_tokens or snap.cache_write_tokens:
        ratio = snap.cache_hit_ratio or 0.0
        lines.append(f"cache {ratio * 100:.0f}% of input · saved {fmt.money(snap.cache_saved)}")
    if now is not None:
        lines.append(now)
    return lines


# -- the budget (engine/budget.py) ---------------------------------------------------------------

BUDGET_BAR = 12


def budget_gauges(snap: BudgetSnapshot) -> list[str]:
    """One line per limited dimension: a bar that fills as the bucket is used, the % and the limit.

    ``OTPM ███████████░  92% of 3,000/min`` — at most 40 columns, so it never wraps in the panel.
    """
    state = snap.main
    if state is None:
        return ["no rate-limit headers yet"]
    lines = []
    for dim in DIMENSIONS:
        d = state.dimensions[dim]
        if d.limit is None:
            continue
        unit = WORDS[dim][1]
        limit = d.learned or d.limit  # the server's figure; slow start's share of it has its own line
        lines.append(f"{unit:<5}{fmt.bar(d.used, BUDGET_BAR)} {d.used * 100:>3.0f}% of {fmt.count(limit)}/min")
    return lines or ["no limits in force"]


def budget_state_lines(snap: BudgetSnapshot) -> list[str]:
    """What binds now, the AIMD cap beside the user's limit, the pace (a ramp in force), and the limiter's mode."""
    state = snap.main
    lines = []
    if state is not None:
        now = WORDS[state.binding][0] if state.binding in WORDS else ("429 hold" if state.held_until else None)
        binding = now if (state.waiting or state.held_until) and now else "nothing (no one waits)"
        lines.append(f"binding    {binding}")
    lines.append(f"conc. cap  {snap.cap} of {snap.user_limit} (F7/F8)")
    if state is not None:
        # the pace in force: a cold start (slow_start = true) or a ramp-limit 429 (ramp_downs) lowers it
        if state.slow_start >= 1.0:
            ramp = "full rate"
        else:
            why = f"{state.ramp_downs} ramp 429" if state.ramp_downs else "slow start"
            ramp = f"{state.slow_start * 100:.0f}% ×2/min ({why})"
        lines.append(f"pace       {ramp}")
    lines.append(snap.mode_text)
    return lines


class BudgetSection(Vertical):
    """The budget: gauges, the binding dimension, cap, slow start, mode, and the advice (which wraps)."""

    snapshot: reactive[BudgetSnapshot | None] = reactive(None, always_update=True)
    advice: reactive[Advice | None] = reactive(None, always_update=True)

    def compose(self) -> ComposeResult:
        yield Static("limiter: off", markup=False, classes="budget-gauges", id="budget-gauges")
        yield Static("", markup=False, classes="budget-state", id="budget-state")
        yield Static("", markup=False, classes="budget-advice", id="budget-advice")

    def watch_snapshot(self, snap: BudgetSnapshot | None) -> None:
        gauges = self.query_one("#budget-gauges", Static)
        state = self.query_one("#budget-state", Static)
        if snap is None:
            gauges.update(Text("limiter: off"))
            state.update("")
            return
        gauges.update(Text("\n".join(budget_gauges(snap)), no_wrap=True, overflow="ellipsis"))
        state.update(Text("\n".join(budget_state_lines(snap)), no_wrap=True, overflow="ellipsis"))

    def watch_advice(self, advice: Advice | None) -> None:
        self.query_one("#budget-advice", Static).update(Text("\n".join(advice.lines) if advice else ""))

    def text(self) -> str:
        return "\n".join(str(w.render()) for w in self.query(Static))


class StatsPanel(VerticalScroll):
    """Pool, rates, latency percentiles, tokens and cost, rate-limit gauges, sparklines, focused tab."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="stats-panel")
        self.last_snapshot: MetricsSnapshot | None = None
        self.last_limit: int | None = None
        self._sections: dict[str, Static] = {}
        self._capacity: dict[str, int] = {}  # the most remaining each rate limit has shown (its bucket)

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
        yield Label("budget", classes="stats-title")
        yield BudgetSection(id="budget", classes="stats-body stats-budget")

        yield Label("throughput (req/s, 3 min)", classes="stats-title")
        yield Sparkline([0.0], id="spark-throughput", classes="stats-spark")
        yield Label("latency (s, 3 min)", classes="stats-title")
        yield Sparkline([0.0], id="spark-latency", classes="stats-spark")
        yield Label("this tab", classes="stats-title")
        self._sections["tab"] = Static("", markup=False, classes="stats-body stats-tab")
        yield self._sections["tab"]

    #: Stored spend by billing mode (all sessions, from the history), set by the app now and then.
    history_spend: dict[str, float] | None = None

    def show(self, snap: MetricsSnapshot, limit: int, tab: MetricsSnapshot | None, tab_title: str) -> None:
        self.last_snapshot = snap
        self.last_limit = limit
        s = self._sections
        chats = getattr(self.app, "chats", {})
        in_tabs = sum(len(chat.tab.pending) for chat in chats.values())
        active = getattr(self.app, "active_chat", None)
        s["pool"].update(_lines(pool_lines(snap, limit, in_tabs)))
        s["rates"].update(_lines(rate_lines(snap)))
        s["latency"].update(_lines(latency_lines(snap)))
        s["tokens"].update(_lines(token_lines(snap, self.history_spend)))
        s["limits"].update(_lines(limit_lines(snap, capacity=self._capacity)))
        s["tab"].update(_lines(tab_lines(tab, tab_title, active.tab.active if active is not None else None)))
        self.show_budget(snap)
        throughput = self.query_one("#spark-throughput", Sparkline)
        latency = self.query_one("#spark-latency", Sparkline)
        if list(throughput.data or []) != snap.throughput_history:
            throughput.data = snap.throughput_history or [0.0]
        if list(latency.data or []) != snap.latency_history:
            latency.data = snap.latency_history or [0.0]

    def show_budget(self, snap: MetricsSnapshot) -> None:
        """The budget section, read from the app's pool (the app builds the pool's budget from --limiter/--redis)."""
        pool = getattr(self.app, "pool", None)
        budget = getattr(pool, "budget", None)
        section = self.query_one(BudgetSection)
        if budget is None:
            section.snapshot, section.advice = None, None
            return
        bsnap = budget.snapshot()
        waiting = snap.queued + sum(c.waiting for c in bsnap.classes.values())
        section.snapshot = bsnap
        section.advice = advise(bsnap, waiting=waiting, requests_per_min=snap.requests_per_s * 60) if bsnap.classes else None

    def section_text(self, key: str) -> str:
        if key == "budget":
            return self.query_one(BudgetSection).text()
        return str(self._sections[key].render())
