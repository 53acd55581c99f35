"""Titles are stored whole: the tab label clips a long first prompt, history keeps all of it
(``history list``, ``history export`` and the F3 list show the whole title)."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

from claude_tui.commands import history_cmd
from claude_tui.store import HistoryStore
from claude_tui.ui.titles import TITLE_MAX, title_from_prompt

from .conftest import SIZE, make_app, press, send, wait_for

TITLE = "Compare the retry strategies of three HTTP client libraries for Python"


def _cli(db: Path, *argv: str) -> str:
    parser = argparse.ArgumentParser(prog="claude-tui")
    history_cmd.add_arguments(parser.add_subparsers(dest="command").add_parser("history"))
    ns = parser.parse_args(["history", "--db", str(db), *argv])
    out = io.StringIO()
    assert history_cmd.run(ns, out=out, err=io.StringIO()) == 0
    return out.getvalue()


async def test_a_long_title_is_stored_whole_and_clipped_only_on_the_tab(make_sim, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    store = HistoryStore.open(db)
    sim = await make_sim()
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, TITLE + "\nand say which one you would pick")
        await wait_for(pilot, lambda: chat.turns and chat.turns[0].state == "done")
        assert chat.title == TITLE
        label = app.tabs.get_tab(chat.tab_id).label_text
        assert "Compare the retry…" in label and TITLE not in label
        cid = chat.conversation_id
        await press(pilot, "f3")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HistoryScreen" and app.screen.conversations)
        assert TITLE in app.screen.option_list.get_option_at_index(0).prompt.plain
    store.close()

    assert TITLE in _cli(db, "list")
    assert _cli(db, "export", str(cid)).startswith(f"# {TITLE}\n")
    assert json.loads(_cli(db, "export", str(cid), "--format", "json"))["title"] == TITLE


def test_a_title_is_the_first_line_within_a_bound() -> None:
    assert title_from_prompt("\n\n  spaced   out \t words \nsecond line") == "spaced out words"
    huge = "word " * 100_000
    title = title_from_prompt(huge)
    assert len(title) <= TITLE_MAX and title.endswith("word…")
