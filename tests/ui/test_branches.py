"""Regenerate (F5), edit a prompt and resend (F9), clear (Ctrl+L), and a failed reply's details.

The replaced turns leave the view but stay in the history as an earlier branch; what the simulator
received (its request log with ``keep_bodies()``) shows the context each action sends.
"""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList

from claude_tui.backend import SIMULATOR_KEY
from claude_tui.store import HistoryStore
from claude_tui.ui.screens.edit_prompt import EditPromptScreen
from claude_tui.ui.screens.error_details import ErrorDetailsScreen, details_text
from claude_tui.ui.tab_model import TabModel, TabState
from claude_tui.ui.widgets.turns import AssistantReply, ReplyFooter

from .conftest import SIZE, make_app, press, send, type_text, wait_for


def all_done(chat, count):
    return lambda: len(chat.turns) == count and all(t.state == "done" for t in chat.turns) and not chat.busy


def shown_replies(chat) -> int:
    return len(chat.log_view.query(AssistantReply))


def sent(sim) -> list[list[tuple[str, str]]]:
    """Each request's messages as (role, text) pairs, in arrival order."""
    return [[(m["role"], m["content"] if isinstance(m["content"], str) else "".join(b.get("text", "") for b in m["content"]))
             for m in record.messages] for record in sim.request_log]


async def converse(pilot, chat, prompts) -> None:
    for n, prompt in enumerate(prompts, start=1):
        await send(pilot, prompt)
        await wait_for(pilot, all_done(chat, n), what=f"reply {n}")


def test_tab_model_branches_keep_the_replaced_turns() -> None:
    tab = TabModel("t1", "chat")
    for prompt in ("a", "b", "c"):
        turn = tab.add(prompt)
        tab.next_turn()
        turn.state, turn.text = TabState.DONE, prompt.upper()
        tab.active = None
    replaced, new = tab.regenerate()
    assert [t.prompt for t in replaced] == ["c"] and new.prompt == "c" and tab.turns[-1] is new and tab.state is TabState.PENDING
    assert tab.regenerate() is None  # busy: the new turn waits to run
    assert tab.next_turn() is new
    assert [m["content"] for m in tab.context_before(new)] == ["a", "A", "b", "B", "c"]  # the same context
    new.state, tab.active = TabState.DONE, None
    replaced, edited = tab.edit(tab.turns[1], "b2")
    assert [t.prompt for t in replaced] == ["b", "c"] and [t.prompt for t in tab.turns] == ["a", "b2"]
    assert [m["content"] for m in tab.context_before(edited)] == ["a", "A", "b2"]
    tab.next_turn()
    edited.state, tab.active = TabState.DONE, None
    assert [t.prompt for t in tab.clear()] == ["a", "b2"] and tab.turns == [] and tab.state is TabState.IDLE
    assert [[t.prompt for t in turns] for turns in tab.earlier] == [["c"], ["b", "c"], ["a", "b2"]]


async def test_regenerate_keeps_the_old_reply_in_history(make_sim, tmp_path: Path) -> None:
    sim = await make_sim()
    sim.keep_bodies()
    store = HistoryStore.open(tmp_path / "h.db")
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await converse(pilot, chat, ["first question", "second question"])
        old = chat.turns[1]
        await press(pilot, "f5")
        await wait_for(pilot, lambda: chat.turns[1] is not old and all_done(chat, 2)(), what="the regenerated reply")
        new = chat.turns[1]
        assert new.prompt == "second question" and new.text and shown_replies(chat) == 2
        assert old not in chat._widgets and chat.reply(new).body.text == new.text  # the view shows the new one
        # the same prompt, with the same context
        assert sent(sim)[2] == sent(sim)[1] and len(sent(sim)[2]) == 3
        app._recorder.flush()  # the recorder commits every 0.1 s; read what it has
        conv = store.get_conversation(chat.conversation_id, branches=True)
        assert [m.id for m in conv.messages][-1] == new.assistant_message_id and conv.messages[-1].text == new.text
        [earlier] = conv.branches
        assert earlier.kind == "regenerate" and [m.id for m in earlier.messages] == [old.assistant_message_id]
        assert earlier.messages[0].text == old.text and earlier.after == new.user_message_id == old.user_message_id
    app2 = make_app(await make_sim(), store=store)
    async with app2.run_test(size=SIZE) as pilot:
        restored = await wait_for(pilot, lambda: app2.active_chat if app2.active_chat and app2.active_chat.turns else None,
                                  what="the restored tab")
        assert [t.prompt for t in restored.turns] == ["first question", "second question"]
        assert restored.turns[1].text == new.text and restored.turns[1].assistant_message_id == new.assistant_message_id
    store.close()


async def test_edit_and_resend_sends_only_the_earlier_context_and_keeps_the_old_branch(make_sim, tmp_path: Path) -> None:
    sim = await make_sim()
    sim.keep_bodies()
    store = HistoryStore.open(tmp_path / "h.db")
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await converse(pilot, chat, ["one", "two", "three"])
        before = list(chat.turns)
        await press(pilot, "f9")  # newest first: pick prompt 2 by typing its number
        await wait_for(pilot, lambda: len(app.screen_stack) > 1 and app.screen.query(CommandList), what="the prompt picker")
        await type_text(pilot, "2. two")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count == 1, what="one match")
        await press(pilot, "enter")
        screen = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, EditPromptScreen) else None, what="the editor")
        assert screen.box.text == "two" and screen.later == 1
        await type_text(pilot, " edited")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: chat.turns[-1].prompt == "two edited" and all_done(chat, 2)(), what="the edited turn's reply")
        assert [t.prompt for t in chat.turns] == ["one", "two edited"] and chat.turns[0] is before[0]
        assert shown_replies(chat) == 2 and before[2] not in chat._widgets
        assert sent(sim)[-1] == [("user", "one"), ("assistant", before[0].text.rstrip()), ("user", "two edited")]
        app._recorder.flush()  # the recorder commits every 0.1 s; read what it has
        conv = store.get_conversation(chat.conversation_id, branches=True)
        assert [m.text for m in conv.messages] == ["one", before[0].text, "two edited", chat.turns[1].text]
        [earlier] = conv.branches
        assert earlier.kind == "edit" and [m.text for m in earlier.messages] == ["two", before[1].text, "three", before[2].text]
        assert earlier.after == before[0].assistant_message_id
        # Esc in the editor changes nothing
        app._edit_turn(chat, chat.turns[0])
        await wait_for(pilot, lambda: isinstance(app.screen, EditPromptScreen), what="the editor again")
        await press(pilot, "escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, what="back")
        assert [t.prompt for t in chat.turns] == ["one", "two edited"] and len(sim.request_log) == 4
    store.close()


async def test_clear_then_send_sends_no_old_context(make_sim, tmp_path: Path) -> None:
    sim = await make_sim()
    sim.keep_bodies()
    store = HistoryStore.open(tmp_path / "h.db")
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await converse(pilot, chat, ["remember the word okapi", "what was the word?"])
        await press(pilot, "ctrl+l")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDialog", what="the confirm dialog")
        assert "2 turns" in app.screen.question and "earlier branch" in app.screen.question
        await press(pilot, "n")  # no: nothing changes
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)
        assert len(chat.turns) == 2
        await press(pilot, "ctrl+l")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDialog", what="asked again")
        await press(pilot, "y")
        await wait_for(pilot, lambda: not chat.turns and shown_replies(chat) == 0, what="an empty view")
        await send(pilot, "fresh start")
        await wait_for(pilot, all_done(chat, 1), what="the reply after the clear")
        assert sent(sim)[-1] == [("user", "fresh start")]
        app._recorder.flush()  # the recorder commits every 0.1 s; read what it has
        conv = store.get_conversation(chat.conversation_id, branches=True)
        assert [m.text for m in conv.messages][0] == "fresh start" and len(conv.messages) == 2
        [earlier] = conv.branches
        assert earlier.kind == "clear" and earlier.after is None and len(earlier.messages) == 4
    store.close()


async def test_a_failed_replys_error_line_opens_its_details(make_sim, tmp_path: Path) -> None:
    sim = await make_sim()
    store = HistoryStore.open(tmp_path / "h.db")
    app = make_app(sim, store=store)  # 5 attempts, quick backoff
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await app.engine_ready.wait()
        sim.inject("overloaded", count=5)
        await send(pilot, "please answer")
        await wait_for(pilot, lambda: chat.turns and chat.turns[0].state == "failed", what="the failed reply")
        footer = chat.reply(chat.turns[0]).footer
        assert "details" in str(footer.render())
        await press(pilot, "shift+tab")  # from the prompt back to the error line
        assert app.focused is footer and isinstance(footer, ReplyFooter)
        await press(pilot, "enter")
        screen = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, ErrorDetailsScreen) else None,
                                what="the details")
        text = screen.text
        ids = [record.request_id for record in sim.request_log]
        assert len(ids) == 5 and all(request_id in text for request_id in ids)
        assert "529" in text and "overloaded_error" in text and f"request id  {ids[-1]}" in text
        assert all(f"attempt {n}" in text for n in range(1, 6)) and text.count("wait ") == 4
        assert SIMULATOR_KEY not in text
        await press(pilot, "escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, what="closed")
        # the palette's command shows the same; Ctrl+R keeps the failed reply as an earlier branch
        app.action_error_details()
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDetailsScreen), what="details from the palette")
        await press(pilot, "escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, what="closed again")
        failed_id = chat.turns[0].assistant_message_id
        await press(pilot, "ctrl+r")
        await wait_for(pilot, all_done(chat, 1), what="the retried reply")
        assert details_text(chat.turns[0]) == ""  # a done turn has no error details
        app._recorder.flush()  # the recorder commits every 0.1 s; read what it has
        conv = store.get_conversation(chat.conversation_id, branches=True)
        assert [m.status for m in conv.messages] == ["complete", "complete"]
        assert [(b.kind, [m.id for m in b.messages]) for b in conv.branches] == [("retry", [failed_id])]
    store.close()


async def test_regenerate_after_the_conversation_was_deleted_stores_a_whole_new_one(make_sim, tmp_path: Path) -> None:
    from claude_tui.ui.screens.history import HistoryScreen

    sim = await make_sim()
    store = HistoryStore.open(tmp_path / "h.db")
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await converse(pilot, chat, ["a question"])
        old_id = chat.conversation_id
        store.delete(old_id)  # as F3's Ctrl+D does, which then tells the app
        app.post_message(HistoryScreen.Deleted(old_id))
        await wait_for(pilot, lambda: chat.conversation_id is None, what="the tab forgets its conversation")
        await press(pilot, "f5")
        await wait_for(pilot, lambda: chat.conversation_id is not None and all_done(chat, 1)(), what="the regenerated reply")
        app._recorder.flush()  # the recorder commits every 0.1 s; read what it has
        conv = store.get_conversation(chat.conversation_id)
        assert [(m.role, m.text) for m in conv.messages] == [("user", "a question"), ("assistant", chat.turns[0].text)]
    store.close()


async def test_a_failed_reply_restored_from_history_shows_its_stored_attempts(make_sim, tmp_path: Path) -> None:
    sim = await make_sim()
    store = HistoryStore.open(tmp_path / "h.db")
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await app.engine_ready.wait()
        sim.inject("overloaded", count=5)
        await send(pilot, "please answer")
        await wait_for(pilot, lambda: chat.turns and chat.turns[0].state == "failed", what="the failed reply")
    ids = [record.request_id for record in sim.request_log]
    app2 = make_app(await make_sim(), store=store)
    async with app2.run_test(size=SIZE) as pilot:
        restored = await wait_for(pilot, lambda: app2.active_chat if app2.active_chat and app2.active_chat.turns else None,
                                  what="the restored tab")
        footer = restored.reply(restored.turns[0]).footer
        await wait_for(pilot, lambda: footer.has_class("-error"), what="the restored error line")
        assert restored.turns[0].outcome is None  # no events survive a restart
        await press(pilot, "shift+tab")
        assert app2.focused is footer
        await press(pilot, "enter")
        screen = await wait_for(pilot, lambda: app2.screen if isinstance(app2.screen, ErrorDetailsScreen) else None,
                                what="the details")
        text = screen.text
        assert all(request_id in text for request_id in ids) and f"request id  {ids[-1]}" in text
        assert "overloaded_error" in text and "529" in text and "5 (from the history)" in text and text.count("wait ") == 4
    store.close()


async def test_the_palette_and_the_key_help_list_the_new_commands(make_sim) -> None:
    from claude_tui.ui.commands import app_commands
    from claude_tui.ui.screens.help import KeyHelpScreen

    app = make_app(await make_sim())
    async with app.run_test(size=SIZE) as pilot:
        names = {name for name, _, _ in app_commands(app)}
        assert {"Regenerate last reply", "Edit a prompt and resend…", "Clear chat…", "Error details"} <= names
        await press(pilot, "f5")  # an empty tab: said, nothing sent
        assert not app.active_chat.turns and "nothing to regenerate" in str(list(app._notifications)[-1].message)
        await press(pilot, "f1")
        screen = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, KeyHelpScreen) else None, what="help")
        requests = dict(screen.rows["Requests"])
        assert "regenerate" in requests["F5"] and "edit a prompt" in requests["F9"] and "clear" in requests["Ctrl+L"]
