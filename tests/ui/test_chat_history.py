"""The app's store calls on their own: a real SQLite store, no app (they know nothing of one)."""

from __future__ import annotations

from pathlib import Path

from claude_tui.store import HistoryStore
from claude_tui.ui.chat_history import ChatHistory, restored_turns


def test_start_turn_stores_the_prompt_once_and_a_reply_per_attempt(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    history = ChatHistory(store)
    first = history.start_turn(None, title="t", model="m", system=None, prompt="hello")
    assert first.conversation_id is not None and first.user_message_id is not None and first.message_id is not None
    again = history.start_turn(first.conversation_id, title="t", model="m", system=None, prompt="hello",
                               user_message_id=first.user_message_id)  # a retry: the prompt is stored already
    assert again.user_message_id == first.user_message_id and again.message_id != first.message_id
    conv = store.get_conversation(first.conversation_id)
    assert conv is not None and [m.role for m in conv.messages] == ["user", "assistant", "assistant"]
    history.remember_open_tabs([first.conversation_id])
    assert history.open_tabs() == [first.conversation_id]
    store.close()


def test_a_failing_store_is_one_notice_and_no_ids(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    notices: list[str] = []
    history = ChatHistory(store, on_error=notices.append)
    store.close()
    stored = history.start_turn(None, title="t", model="m", system=None, prompt="hello")
    assert stored.conversation_id is None and stored.message_id is None
    assert len(notices) == 1 and notices[0].startswith("history: could not create the conversation")
    assert history.list() == [] and history.load(1) is None


def test_restored_turns_pair_prompts_with_replies(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    cid = store.create_conversation("t", "claude-sonnet-4-6")
    store.add_user_message(cid, "q1")
    reply = store.start_assistant_message(cid)
    store.finish_assistant_message(reply, "a1", usage={"output_tokens": 3})
    store.add_user_message(cid, "q2")  # no reply stored
    conv = store.get_conversation(cid)
    assert conv is not None
    turns = restored_turns(conv)
    assert [(t.prompt, t.text, t.state) for t in turns] == [("q1", "a1", "done"), ("q2", "", "cancelled")]
    assert "3 tokens out" in turns[0].footer and turns[1].footer == "no reply stored"
    store.close()
