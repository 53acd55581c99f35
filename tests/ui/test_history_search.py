"""The F3 screen searches the history with FTS5: typing filters to matching conversations, with the
matched word highlighted in a snippet of the message it was found in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claude_tui.store import HistoryStore

from .conftest import SIZE, make_app, press, type_text, wait_for

REPLY = (
    "Start with a small table and grow it as the data arrives. The loader reads each file once, "
    "keeps a checksum beside every chunk, and a quokka-proof manifest lists what was written, so a "
    "second run skips the chunks that already match."
)


async def search_history(pilot: Any, *, listed: int, text: str, found: list[int]) -> Any:
    """F3, wait for its list of ``listed`` conversations, type ``text``, wait until it lists ``found``."""
    app = pilot.app
    await press(pilot, "f3")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "HistoryScreen" and len(app.screen.conversations) == listed)
    screen = app.screen
    await type_text(pilot, text)
    await wait_for(pilot, lambda: [c.id for c in screen.conversations] == found, what="the FTS match")
    return screen


async def test_typing_in_f3_finds_a_word_from_the_middle_of_a_reply(make_sim, tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    found = store.create_conversation("Loading files", "claude-sonnet-4-6")
    store.add_user_message(found, "how should the loader work?")
    store.add_assistant_message(found, REPLY)
    other = store.create_conversation("Something else", "claude-sonnet-4-6")
    store.add_user_message(other, "tell me about marsupials")
    sim = await make_sim()
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await search_history(pilot, listed=2, text="quokk", found=[found])
        prompt = screen.option_list.get_option_at_index(0).prompt
        shown = prompt.plain
        assert "Loading files" in shown and "assistant: …" in shown and "and a quokka-proof" in shown
        highlighted = {shown[span.start:span.end] for span in prompt.spans if "reverse" in str(span.style)}
        assert highlighted == {"quokka"}
        # the match opens in a tab
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.active_chat is not None and app.active_chat.conversation_id == found
                       and app.active_chat.turns, what="reopened")
        assert app.active_chat.turns[0].text.startswith("Start with a small table")
    store.close()


async def test_a_hit_only_in_an_earlier_branch_says_so(make_sim, tmp_path: Path) -> None:
    """Opening the chat shows its live branch, where a regenerated-away reply is not: F3 says where it is."""
    store = HistoryStore.open(tmp_path / "h.db")
    cid = store.create_conversation("Loading files", "claude-sonnet-4-6")
    store.add_user_message(cid, "how should the loader work?")
    old = store.add_assistant_message(cid, REPLY)
    store.supersede(cid, old, "regenerate")
    store.add_assistant_message(cid, "Read each file once and keep a manifest.")
    sim = await make_sim()
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await search_history(pilot, listed=1, text="quokk", found=[cid])
        shown = screen.option_list.get_option_at_index(0).prompt.plain
        assert "assistant (in an earlier branch): …" in shown and "quokka-proof" in shown
    store.close()
