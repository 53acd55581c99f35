"""Ctrl+Q while a reply streams asks first; what arrived is saved and shown in the restored tab."""

from __future__ import annotations

from pathlib import Path

from claude_tui.store import HistoryStore

from .conftest import SIZE, make_app, press, send, wait_for


def streaming_with_text(chat):
    return lambda: chat.turns and chat.turns[-1].state == "streaming" and len(chat.reply(chat.turns[-1]).body.text) > 20


async def test_ctrl_q_while_streaming_asks_then_restores_thinking_and_partial_text(make_sim, tmp_path: Path) -> None:
    sim = await make_sim(tps=300, reply_tokens=600)
    sim.hold_replies(after_tokens=40)  # still streaming when we quit, however slow the machine
    store = HistoryStore.open(tmp_path / "h.db")
    app = make_app(sim, store=store, thinking_budget=1024, stall_timeout=600)  # a held reply sends only pings
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "think, then talk")
        await wait_for(pilot, streaming_with_text(chat), timeout=30, what="a partial reply after its thinking")
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "QuitDialog", what=f"a question, not an exit {app.is_running} {app.screen_stack} {[c.busy for c in app.chats.values()]}")
        assert "1 reply" in app.screen.question and "saved" in app.screen.question
        await press(pilot, "n")  # no: the reply goes on
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, what="back to the chat")
        assert chat.turns[0].state == "streaming" and app.is_running
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "QuitDialog", what="asked again")
        thinking = chat.reply(chat.turns[0]).thinking
        await press(pilot, "y")
        await wait_for(pilot, lambda: not app.is_running, what="the app quits")
    assert thinking
    (conv,) = store.list_conversations()
    saved = store.get_conversation(conv.id).messages[1]
    assert saved.status == "cancelled" and saved.text and saved.thinking.startswith(thinking[:50])

    sim2 = await make_sim()
    app2 = make_app(sim2, store=store)
    async with app2.run_test(size=SIZE) as pilot:
        restored = await wait_for(pilot, lambda: app2.active_chat if app2.active_chat and app2.active_chat.turns else None,
                                  what="the restored tab")
        reply = restored.reply(restored.turns[0])
        await wait_for(pilot, lambda: reply.body.text == saved.text, what="the partial text on screen")
        assert reply.thinking == saved.thinking  # the thinking is shown too (collapsed)
        assert restored.turns[0].state == "cancelled" and "cancelled" in str(reply.footer.render())
    store.close()


async def test_ctrl_q_when_idle_quits_at_once(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, what="the app quits")
