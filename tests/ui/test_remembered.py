"""The app's own settings changed in the app (theme, concurrency limit, stats panel) survive a restart;
a value given for the launch (flag, environment) wins, and so does a config value changed since."""

from __future__ import annotations

from pathlib import Path

from claude_tui.store import HistoryStore
from claude_tui.ui.remembered import Choice, resolve

from .conftest import SIZE, make_app, press, wait_for


def test_which_value_a_launch_starts_with() -> None:
    chosen = Choice("midnight", over="claude-dark")
    assert resolve("claude-dark", chosen, pinned=False) == ("midnight", False)  # chosen in the app: kept
    assert resolve("phosphor", chosen, pinned=False) == ("phosphor", True)  # config changed since: it wins, forget
    assert resolve("phosphor", chosen, pinned=True) == ("phosphor", False)  # a flag for this launch: kept for later
    assert resolve("claude-dark", None, pinned=False) == ("claude-dark", False)
    assert Choice.decode(chosen.encode()) == chosen and Choice.decode("not json") is None


async def test_theme_limit_and_stats_panel_survive_a_restart(make_sim, tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    sim = await make_sim()
    launch = dict(store=store, theme="claude-dark", concurrency=4, show_stats=None)
    app = make_app(sim, **launch)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_chat is not None, what="a tab")
        assert app.theme == "claude-dark" and app.concurrency_limit == 4 and app.stats_panel.display
        app.theme = "midnight"  # as the palette's theme picker sets it
        await press(pilot, "f8", "f8")  # limit 4 → 6
        await press(pilot, "f2")  # hide the panel
        assert not app.stats_panel.display and app.concurrency_limit == 6
        await wait_for(pilot, lambda: store.state("ui.theme") is not None, what="the theme remembered")
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, what="quit")

    app2 = make_app(sim, **launch)  # the same config: what was chosen in the app comes back
    async with app2.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app2.active_chat is not None, what="a tab")
        assert app2.theme == "midnight" and app2.concurrency_limit == 6 and app2.pool.limit == 6
        assert not app2.stats_panel.display

    app3 = make_app(sim, **{**launch, "concurrency": 9, "theme": "phosphor"}, pinned=["theme"])
    async with app3.run_test(size=SIZE) as pilot:  # config limit edited since (9), theme given by a flag
        await wait_for(pilot, lambda: app3.active_chat is not None, what="a tab")
        assert app3.concurrency_limit == 9 and app3.theme == "phosphor" and not app3.stats_panel.display
    assert store.state("ui.concurrency") is None  # the stale choice is forgotten; the flag's theme is not stored
    assert Choice.decode(store.state("ui.theme")) == Choice("midnight", "claude-dark")
    store.close()


async def test_no_history_means_nothing_remembered(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, concurrency=3)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f8")
        assert app.concurrency_limit == 4  # works, and writes nothing (there is nowhere to write)
