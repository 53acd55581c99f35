"""A layout for every terminal: below NARROW_WIDTH the stats panel leaves the row to the chat, F2
shows it over the chat, and the status bar carries the essentials without being cut."""

from __future__ import annotations

from claude_tui.ui.app import NARROW_WIDTH

from .conftest import make_app, press, send, wait_for


async def test_at_80_columns_the_panel_hides_and_the_chat_gets_the_width(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, show_stats=True)  # the user asked for the panel: there is no room for it
    async with app.run_test(size=(80, 24)) as pilot:
        chat = app.active_chat
        await wait_for(pilot, lambda: chat.region.width > 0, what="laid out")
        assert not app.stats_panel.display
        assert chat.region.width >= 76 and chat.prompt.region.width >= 76
        await send(pilot, "hello")
        await wait_for(pilot, lambda: chat.turns[0].state == "done")
        app._refresh_stats()
        bar = str(app.statusbar.render())
        assert len(bar) <= 78 and "SIM" in bar and "running" in bar and "✓1 ✗0" in bar and "est." in bar

        # F2: the panel over the chat, which keeps its width
        await press(pilot, "f2")
        await wait_for(pilot, lambda: app.stats_panel.display and app.stats_panel.region.width > 0)
        assert app.stats_panel.region.right == 80 and chat.region.width >= 76
        await press(pilot, "f2")
        await wait_for(pilot, lambda: not app.stats_panel.display)

        # wide: beside the chat; narrow again: hidden, and the chat has the row back
        await pilot.resize_terminal(160, 45)
        await wait_for(pilot, lambda: app.stats_panel.display and app.stats_panel.region.width == 44)
        assert chat.region.width == 160 - 44
        assert "in flight" in str(app.statusbar.render())
        await pilot.resize_terminal(NARROW_WIDTH - 1, 40)
        await wait_for(pilot, lambda: not app.stats_panel.display and chat.region.width == NARROW_WIDTH - 1)


async def test_f2_on_a_wide_terminal_is_remembered_across_a_narrow_spell(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, show_stats=True)
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.stats_panel.display
        await press(pilot, "f2")
        assert not app.stats_panel.display
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: app.has_class("-narrow"))
        await pilot.resize_terminal(140, 40)
        await wait_for(pilot, lambda: not app.has_class("-narrow"))
        assert not app.stats_panel.display  # the user's choice, not the width's


def test_the_narrow_status_line_drops_the_least_important_first() -> None:
    from claude_tui.engine.metrics import Metrics
    from claude_tui.ui.widgets.status_line import narrow_line

    snap = Metrics().snapshot()
    roomy = narrow_line(snap, marker="◉ SIMULATOR", model="claude-sonnet-4-6", limit=5, width=100)
    assert roomy.startswith("◉ SIM · sonnet-4-6 · 0/5 running · 0 queued · ✓0 ✗0")
    tight = narrow_line(snap, marker="◉ SIMULATOR", model="claude-sonnet-4-6", limit=5, width=40)
    assert tight == "◉ SIM · 0/5 running · 0 queued · ✓0 ✗0" and len(tight) <= 40
