"""The stats panel's budget section, in the real app against a simulator with low limits (rpm 6, otpm 2000)."""

from __future__ import annotations

import pytest

from claude_tui.config import LimitSettings
from claude_tui.engine.budget import BudgetSnapshot, ClassState, DimensionState
from claude_tui.ui.widgets.stats_panel import budget_gauges, budget_state_lines

from .conftest import SIZE, make_app, press, send, wait_for

pytestmark = pytest.mark.timeout(180)


async def test_ten_prompts_in_five_tabs_fill_the_budget_and_name_what_binds(make_sim) -> None:
    sim = await make_sim(rpm=6, otpm=2000)
    app = make_app(sim, concurrency=5, limits=LimitSettings())
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        assert app.pool is not None and app.pool.budget is not None
        for tab in range(5):
            if tab:
                await press(pilot, "ctrl+t")
            await send(pilot, f"tab {tab} first")
            await send(pilot, f"tab {tab} second")
        panel = app.stats_panel

        def budget_text() -> str:
            app._refresh_stats()
            return panel.section_text("budget")

        await wait_for(pilot, lambda: "binding    requests" in budget_text(), timeout=90,
                       what=f"the binding dimension named: {budget_text()!r}")
        text = budget_text()
        rpm = next(line for line in text.splitlines() if line.startswith("RPM"))
        assert "█" in rpm and rpm.endswith("of 6/min"), rpm  # the bar fills as the bucket is used
        assert "OTPM" in text and "conc. cap" in text and "pace       full rate" in text  # an idle key: the full rate at once
        assert "limiter: local" in text
        # the advice: which limit bound, and how long the prompts still waiting will take
        await wait_for(pilot, lambda: "requests bound this run" in budget_text() and "queue: " in budget_text(),
                       timeout=90, what=f"the advice: {budget_text()!r}")
        await wait_for(pilot, lambda: app.metrics is not None and app.metrics.snapshot().done >= 1, timeout=90,
                       what="a reply")
        assert app.metrics is not None and app.metrics.snapshot().rate_limited <= 1
        assert sim.stats.status_counts.get(429, 0) <= 1


def _snap(used_level: float) -> BudgetSnapshot:
    dims = {
        "requests": DimensionState(60, 60, used_level, 10.0),
        "input_tokens": DimensionState(None, None, None, None),
        "output_tokens": DimensionState(3_000_000, 3_000_000, 0.0, 500_000.0),
    }
    state = ClassState("sonnet-4", dims, "output_tokens", 0.5, None, 3, 10.0, 4, 20.0, 30.0, 256.0)
    return BudgetSnapshot({"sonnet-4": state}, 3, 8, 3, "redis", "", 4, 5, 2.0)


def test_the_gauges_fill_as_used_and_never_outgrow_the_panel() -> None:
    empty, half = budget_gauges(_snap(10.0)), budget_gauges(_snap(5.0))
    assert empty[0] == "RPM  ░░░░░░░░░░░░   0% of 60/min"
    assert half[0] == "RPM  ██████░░░░░░  50% of 60/min"
    assert half[1] == "OTPM ████████████ 100% of 3.00M/min"
    assert all(len(line) <= 40 for line in half)  # the panel is 44 wide with its padding: no wrap
    lines = budget_state_lines(_snap(5.0))
    assert all(len(line) <= 40 for line in lines)
    assert lines == ["binding    output tokens", "conc. cap  3 of 8 (F7/F8)",
                     "pace       50% ×2/min (slow start)", "limiter: redis (4 processes)"]


def test_a_ramp_limit_429_is_named_as_the_reason_for_the_pace() -> None:
    import dataclasses

    snap = _snap(5.0)
    snap = dataclasses.replace(snap, classes={"sonnet-4": dataclasses.replace(snap.classes["sonnet-4"], ramp_downs=2)})
    assert "pace       50% ×2/min (2 ramp 429)" in budget_state_lines(snap)
