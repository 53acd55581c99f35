"""Branches: regenerate, edit and clear move messages off the live path; nothing is deleted."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest

from claude_tui.cli import build_parser
from claude_tui.store import HistoryStore
from claude_tui.store.schema import BRANCHES, LATEST, MIGRATIONS


def call(*argv: str) -> tuple[int, str, str]:
    ns = build_parser().parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    code = ns.func(ns, out=out, err=err, stdin=io.StringIO(""))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def store(tmp_path):
    s = HistoryStore.open(tmp_path / "h.db")
    yield s
    s.close()


def _exchange(store: HistoryStore, cid: int, prompt: str, reply: str) -> tuple[int, int]:
    user = store.add_user_message(cid, prompt)
    answer = store.start_assistant_message(cid)
    store.finish_assistant_message(answer, reply)
    return user, answer


def texts(messages) -> list[str]:
    return [m.text for m in messages]


def test_regenerate_keeps_the_old_reply_as_an_earlier_branch(store):
    cid = store.create_conversation("t", "m")
    _exchange(store, cid, "q1", "a1")
    user, old = _exchange(store, cid, "q2", "first answer")
    branch = store.supersede(cid, old, "regenerate")
    new = store.start_assistant_message(cid)
    store.finish_assistant_message(new, "second answer")

    live = store.get_conversation(cid)
    assert texts(live.messages) == ["q1", "a1", "q2", "second answer"] and live.branches == ()
    full = store.get_conversation(cid, branches=True)
    assert texts(full.messages) == texts(live.messages)
    [earlier] = full.branches
    assert earlier.id == branch and earlier.kind == "regenerate" and texts(earlier.messages) == ["first answer"]
    assert earlier.after == user  # it forked after the prompt both replies answer
    assert full.api_messages()[-1] == {"role": "assistant", "content": "second answer"}


def test_edit_moves_the_prompt_and_everything_after_it(store):
    cid = store.create_conversation("t", "m")
    first_user, first_reply = _exchange(store, cid, "q1", "a1")
    _exchange(store, cid, "q2", "a2")
    _exchange(store, cid, "q3", "a3")
    # regenerate a3 first, then edit q2: the earlier regenerate branch stays as it was
    regen = store.supersede(cid, store.get_conversation(cid).messages[-1].id, "regenerate")
    store.add_assistant_message(cid, "a3 again")
    q2 = store.get_conversation(cid).messages[2].id
    edit = store.supersede(cid, q2, "edit")
    _exchange(store, cid, "q2 edited", "a2'")

    assert texts(store.get_conversation(cid).messages) == ["q1", "a1", "q2 edited", "a2'"]
    full = store.get_conversation(cid, branches=True)
    by_id = {b.id: b for b in full.branches}
    assert texts(by_id[regen].messages) == ["a3"]
    assert texts(by_id[edit].messages) == ["q2", "a2", "q3", "a3 again"]
    assert by_id[edit].after == first_reply
    # the regenerate branch forked after q3, which is in the edit branch now
    assert by_id[regen].after == by_id[edit].messages[2].id
    assert store.list_conversations()[0].message_count == 4  # the live branch


def test_clear_moves_every_live_message_and_nothing_to_move_records_nothing(store):
    cid = store.create_conversation("t", "m")
    _exchange(store, cid, "q1", "a1")
    branch = store.supersede(cid, None, "clear")
    assert store.get_conversation(cid).messages == ()
    assert store.supersede(cid, None, "clear") is None  # nothing live: no empty branch
    _exchange(store, cid, "fresh", "start")
    full = store.get_conversation(cid, branches=True)
    assert texts(full.messages) == ["fresh", "start"]
    assert [(b.id, b.kind, b.after, texts(b.messages)) for b in full.branches] == [(branch, "clear", None, ["q1", "a1"])]
    with pytest.raises(ValueError):
        store.supersede(cid, None, "undo")


def test_search_finds_text_in_earlier_branches(store):
    cid = store.create_conversation("t", "m")
    _, old = _exchange(store, cid, "tell me about okapis", "the okapi is a forest giraffe")
    store.supersede(cid, old, "regenerate")
    store.add_assistant_message(cid, "a striped relative of the giraffe")
    [hit] = store.search("forest")
    assert hit.id == cid and hit.message_id == old and ("forest", True) in hit.snippet
    assert hit.message_count == 2 and hit.earlier_branch  # said, since opening the chat will not show it
    [live] = store.search("giraffe")  # in both branches: the live reply is the snippet
    assert "striped" in live.snippet_text and not live.earlier_branch
    store.delete(cid)  # a conversation with branches deletes whole
    assert store.search("forest") == [] and store._conn.execute("SELECT COUNT(*) FROM branches").fetchone()[0] == 0


def test_a_database_from_before_branches_keeps_its_messages_on_the_live_branch(tmp_path):
    db = tmp_path / "h.db"
    step = MIGRATIONS.index(BRANCHES)
    conn = sqlite3.connect(db)
    for statements in MIGRATIONS[:step]:  # the schema as the release before branches left it
        for statement in statements:
            conn.execute(statement)
    conn.execute("INSERT INTO conversations (id, title, model, created_at, updated_at) VALUES (1, 'Old chat', 'm', 1000, 2000)")
    for n, (role, text) in enumerate([("user", "hello"), ("assistant", "hi there"), ("user", "again"), ("assistant", "yes")]):
        conn.execute("INSERT INTO messages (conversation_id, role, text, status, created_at, updated_at) "
                     "VALUES (1, ?, ?, 'complete', ?, ?)", (role, text, 1000 + n, 1000 + n))
    conn.execute(f"PRAGMA user_version = {step}")
    conn.commit()
    conn.close()

    with HistoryStore.open(db) as store:
        assert store.schema_version == LATEST
        conv = store.get_conversation(1, branches=True)
        assert texts(conv.messages) == ["hello", "hi there", "again", "yes"] and conv.branches == ()
        assert all(m.branch is None for m in conv.messages)
        store.supersede(1, conv.messages[-1].id, "regenerate")  # and branching works on it
        assert texts(store.get_conversation(1).messages) == ["hello", "hi there", "again"]


def test_history_show_and_export_say_where_earlier_branches_are(xdg):
    with HistoryStore.open() as store:
        cid = store.create_conversation("Okapis", "m")
        user, old = _exchange(store, cid, "what is an okapi?", "a forest giraffe")
        store.supersede(cid, old, "regenerate")
        new = store.add_assistant_message(cid, "a striped giraffe relative")
    code, out, err = call("history", "show", str(cid))
    assert (code, err) == (0, "")
    live, earlier = out.split("## Earlier branches")
    assert "a striped giraffe relative" in live and "a forest giraffe" not in live
    assert "earlier branch 1 (replaced by a regenerated reply) forks here" in live
    assert live.index("forks here") > live.index("what is an okapi?")  # at the fork: after the prompt
    assert f"after message {user}" in earlier and "a forest giraffe" in earlier
    code, out, _ = call("history", "export", str(cid), "--format", "json")
    data = json.loads(out)
    assert [m["id"] for m in data["messages"]] == [user, new]
    assert data["branches"][0]["kind"] == "regenerate" and data["branches"][0]["messages"][0]["text"] == "a forest giraffe"
    assert "T" in data["branches"][0]["created"]
    code, out, _ = call("history", "list")
    assert code == 0 and out.splitlines()[1].split()[4] == "2"  # MSGS: the live branch
    code, out, _ = call("history", "search", "forest")
    assert code == 0 and "(in an earlier branch: `history show` lists it)" in out and "forest" in out
