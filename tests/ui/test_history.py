"""History hooks: prompts and replies saved, tabs restored, the history screen (search, reopen, rename, delete)."""

from __future__ import annotations

from pathlib import Path

from claude_tui.store import HistoryStore

from .conftest import SIZE, make_app, press, send, type_text, wait_for


def turn_done(chat, n):
    return lambda: len(chat.turns) == n and chat.turns[-1].state == "done"


async def test_history_saved_restored_and_browsed(make_sim, tmp_path: Path) -> None:
    sim = await make_sim()
    db = tmp_path / "history.db"
    store = HistoryStore.open(db)
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "remember the aardvark")
        await wait_for(pilot, turn_done(chat, 1))
        await send(pilot, "and the bee")
        await wait_for(pilot, turn_done(chat, 2))
        await press(pilot, "ctrl+t")
        other = app.active_chat
        await send(pilot, "a second conversation")
        await wait_for(pilot, turn_done(other, 1))
        cid = chat.conversation_id
        conv = store.get_conversation(cid)
        assert [m.role for m in conv.messages] == ["user", "assistant", "user", "assistant"]
        assert conv.messages[0].text == "remember the aardvark"
        assert conv.messages[1].text == chat.turns[0].text and conv.messages[1].status == "complete"
        assert conv.title == "remember the aardvark"  # whole; the tab label clips it
        assert "remember the aardv…" in app.tabs.get_tab(chat.tab_id).label_text
    # the app remembered its open tabs at exit
    assert store.open_tabs() == [cid, other.conversation_id]
    store.close()

    store = HistoryStore.open(db)
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.chats) == 2, what="tabs restored")
        restored = app.chats[app.tab_ids[0]]
        assert [t.prompt for t in restored.turns] == ["remember the aardvark", "and the bee"]
        assert restored.turns[1].state == "done"
        await wait_for(pilot, lambda: restored.reply(restored.turns[0]).body.text, what="restored text shown")
        # continuing a restored conversation sends its whole history
        app.show_tab(restored.tab_id)
        await send(pilot, "third turn")
        await wait_for(pilot, turn_done(restored, 3))
        roles = [m["role"] for m in restored.context_before(restored.turns[2])]
        assert roles == ["user", "assistant", "user", "assistant", "user"]

        # the history screen: search, rename, reopen, delete
        await press(pilot, "f3")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HistoryScreen" and app.screen.query("#history-list"))
        screen = app.screen
        assert len(screen.conversations) == 2
        await type_text(pilot, "bee")
        await wait_for(pilot, lambda: len(screen.conversations) == 1)
        assert screen.conversations[0].id == restored.conversation_id
        screen.rename(screen.conversations[0].id, "Insects")  # what Ctrl+E's dialog does with its answer
        await wait_for(pilot, lambda: restored.title == "Insects", what="the open tab renamed")
        assert restored.title == "Insects"
        # delete the other conversation (with confirmation)
        screen.query_one("#history-search").value = ""
        await wait_for(pilot, lambda: len(screen.conversations) == 2)
        other_id = next(c.id for c in screen.conversations if c.title != "Insects")
        screen.option_list.highlighted = next(i for i, c in enumerate(screen.conversations) if c.id == other_id)
        await press(pilot, "ctrl+d")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDialog")
        await press(pilot, "y")
        await wait_for(pilot, lambda: len(screen.conversations) == 1, what=f"deleted {[(c.id, c.title) for c in screen.conversations]} {other_id} {app.screen} {screen.history.last_error}")
        assert store.get_conversation(other_id) is None
        await press(pilot, "escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)
    store.close()


async def test_history_screen_reopens_closed_conversation(make_sim, tmp_path: Path) -> None:
    sim = await make_sim()
    store = HistoryStore.open(tmp_path / "h.db")
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "keep me")
        await wait_for(pilot, turn_done(chat, 1))
        cid = chat.conversation_id
        await press(pilot, "ctrl+w")
        assert all(c.conversation_id != cid for c in app.chats.values())
        await press(pilot, "f3")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HistoryScreen" and app.screen.conversations)
        await press(pilot, "enter")
        # the tab exists before it is shown (its pane mounts in between): wait for both
        await wait_for(pilot, lambda: app.active_chat is not None and app.active_chat.conversation_id == cid
                       and app.active_chat.turns, what="reopened and shown")
        reopened = next(c for c in app.chats.values() if c.conversation_id == cid)
        assert app.active_chat is reopened and reopened.turns[0].prompt == "keep me"
    store.close()
