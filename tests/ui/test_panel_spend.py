"""The stats panel shows the history's spend with live and batch apart (issue #12: a batch run's
half-price spend is not mixed into what the app's own requests cost)."""

from __future__ import annotations

from pathlib import Path

from claude_tui.store import HistoryStore

from .conftest import SIZE, make_app, send, wait_for
from .test_app import turn_state


async def test_the_panel_shows_live_and_batch_spend_apart(make_sim, tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    store.record_batch("msgbatch_1", results_file="o.jsonl", requests=1, submitted_at=1000.0)
    assert store.record_batch_item("msgbatch_1", "p1", status="ok", model="claude-haiku-4-5", cost=0.25, output_tokens=7)
    sim = await make_sim()
    app = make_app(sim, store=store, show_stats=True)
    async with app.run_test(size=SIZE) as pilot:
        tokens = app.stats_panel.query_one(".stats-tokens")
        await wait_for(pilot, lambda: "batch $0.25" in str(tokens.render()), what=f"the stored batch spend: {tokens.render()!s} {app.stats_panel.history_spend}")
        assert "live $0.0000" in str(tokens.render())
        chat = app.active_chat
        await send(pilot, "a live question")
        await wait_for(pilot, turn_state(chat, "done"), what="the reply")
        app._recorder.flush()  # the recorder commits its writes every 0.1 s: this reply's are in now
        app._spend_read_at = 0.0  # the next tick reads the history again (it does so every 30 s)
        await wait_for(pilot, lambda: "live $0.0000" not in str(tokens.render()), what="the live spend counted")
        assert "batch $0.25" in str(tokens.render())
    store.close()
