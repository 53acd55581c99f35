from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from claude_tui import paths
from claude_tui.store import HistoryError, HistoryStore, StreamingWriter
from claude_tui.store.schema import LATEST, MIGRATIONS, V1


@pytest.fixture
def store(tmp_path):
    s = HistoryStore.open(tmp_path / "h.db")
    yield s
    s.close()


def test_open_default_path_creates_only_data_dir_and_db(xdg):
    with HistoryStore.open() as s:
        assert s.path == paths.history_db()
        assert s.notice is None
    assert paths.history_db().exists()
    assert stat.S_IMODE(paths.history_db().stat().st_mode) == 0o600
    created = {p.relative_to(xdg["root"]).parts[0] for p in xdg["root"].rglob("*")}
    assert created == {"data"}


def test_pragmas(store):
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert store.schema_version == LATEST == len(MIGRATIONS)


def test_conversation_lifecycle(store):
    a = store.create_conversation("First chat", "claude-sonnet-4-6", "be brief")
    store.add_user_message(a, "What is WAL mode?")
    m = store.start_assistant_message(a)
    assert store.get_message(m).status == "streaming"
    store.update_assistant_text(m, "Write-ahead", "thinking...")
    assert store.get_message(m).text == "Write-ahead"
    store.finish_assistant_message(m, "Write-ahead logging.", "thought", "end_turn", {"input_tokens": 5, "output_tokens": 3}, 0.001)
    b = store.create_conversation("Second", "claude-haiku-4-5")
    store.add_user_message(b, "hello there")

    conv = store.get_conversation(a)
    assert (conv.title, conv.model, conv.system) == ("First chat", "claude-sonnet-4-6", "be brief")
    assert [(x.role, x.text, x.status) for x in conv.messages] == [
        ("user", "What is WAL mode?", "complete"),
        ("assistant", "Write-ahead logging.", "complete"),
    ]
    reply = conv.messages[1]
    assert reply.usage == {"input_tokens": 5, "output_tokens": 3} and reply.cost == 0.001 and reply.stop_reason == "end_turn"
    assert conv.api_messages() == [{"role": "user", "content": "What is WAL mode?"}, {"role": "assistant", "content": "Write-ahead logging."}]

    listed = store.list_conversations()
    assert [c.id for c in listed] == [b, a]  # newest first
    assert listed[1].message_count == 2 and listed[1].preview == "What is WAL mode?"
    assert [c.id for c in store.list_conversations("wal MODE")] == [a]  # message text, case-insensitive
    assert [c.id for c in store.list_conversations("second")] == [b]  # title
    assert store.list_conversations("100%") == []  # LIKE wildcards are literal
    assert len(store.list_conversations(limit=1)) == 1

    assert store.rename(a, "Renamed") and store.get_conversation(a).title == "Renamed"
    assert not store.rename(999, "x")
    assert store.get_conversation(999) is None


def test_delete_cascades_and_keeps_attempts_unlinked(store):
    c = store.create_conversation("t", "m")
    store.add_user_message(c, "q")
    m = store.start_assistant_message(c)
    store.record_attempt("job-1", attempt=1, status="ok", conversation_id=c, message_id=m, model="m", cost=0.5)
    assert store.delete(c)
    assert store.get_conversation(c) is None
    assert store._conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    [row] = store.attempts()
    assert (row.conversation_id, row.message_id, row.cost) == (None, None, 0.5)
    assert not store.delete(c)


def test_open_tabs(store):
    ids = [store.create_conversation(f"c{i}", "m") for i in range(4)]
    assert store.open_tabs() == []
    store.set_open_tabs([ids[2], ids[0], ids[3]])
    assert store.open_tabs() == [ids[2], ids[0], ids[3]]
    store.set_open_tabs([ids[1]])
    assert store.open_tabs() == [ids[1]]
    assert store.get_conversation(ids[1]).open_tab == 0


def test_status_validation(store):
    c = store.create_conversation("t", "m")
    m = store.start_assistant_message(c)
    with pytest.raises(ValueError):
        store.finish_assistant_message(m, "x", status="streaming")
    with pytest.raises(ValueError):
        store.record_attempt("j", attempt=1, status="weird")
    for status in ("interrupted", "failed", "cancelled", "complete"):
        store.finish_assistant_message(m, "x", status=status)
        assert store.get_message(m).status == status


def test_streaming_left_by_a_dead_process_becomes_interrupted(tmp_path):
    db = tmp_path / "h.db"
    with HistoryStore.open(db) as s:
        c = s.create_conversation("t", "m")
        mine = s.start_assistant_message(c)
        dead = s.start_assistant_message(c)
        alive = s.start_assistant_message(c)
        proc = subprocess.Popen([sys.executable, "-c", "pass"])
        proc.wait()
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            s._conn.execute("UPDATE messages SET writer_pid = ? WHERE id = ?", (proc.pid, dead))
            s._conn.execute("UPDATE messages SET writer_pid = ? WHERE id = ?", (sleeper.pid, alive))
            other = HistoryStore.open(db)  # a second process would see this
            assert other.recovered == [dead]
            assert other.get_message(dead).status == "interrupted"
            assert other.get_message(alive).status == "streaming"  # its writer is still running
            assert other.get_message(mine).status == "streaming"
            other.close()
        finally:
            sleeper.kill()
            sleeper.wait()
    # closing a store interrupts its own streams
    with HistoryStore.open(db) as s:
        assert s.get_message(mine).status == "interrupted"


def test_closed_store_raises(tmp_path):
    s = HistoryStore.open(tmp_path / "h.db")
    s.close()
    s.close()
    with pytest.raises(HistoryError):
        s.create_conversation("t", "m")


def test_streaming_writer_throttles_with_a_fake_clock(store):
    c = store.create_conversation("t", "m")
    m = store.start_assistant_message(c)
    now = [100.0]
    w = StreamingWriter(store, m, interval=0.5, clock=lambda: now[0], timer=False)
    writes = []
    for i in range(100):  # 100 deltas over 2 s
        if w.append(f"{i},"):
            writes.append(now[0])
        now[0] += 0.02
    assert 4 <= len(writes) <= 5
    assert all(b - a >= 0.5 - 1e-9 for a, b in zip(writes, writes[1:]))
    saved = store.get_message(m).text
    assert w.text.startswith(saved) and saved
    w.flush()
    assert store.get_message(m).text == w.text
    w.finish(stop_reason="end_turn")
    msg = store.get_message(m)
    assert msg.status == "complete" and msg.text == w.text and msg.stop_reason == "end_turn"


def test_streaming_writer_timer_saves_a_pause(store):
    import time

    c = store.create_conversation("t", "m")
    m = store.start_assistant_message(c)
    w = StreamingWriter(store, m, interval=0.2)
    assert w.append("first ")  # written at once
    assert not w.append("second")  # inside the quiet period: pending
    assert store.get_message(m).text == "first "
    # no further delta: the timer writes it (the deadline only catches a hang)
    deadline = time.monotonic() + 30
    while store.get_message(m).text != "first second":
        assert time.monotonic() < deadline, "the timer never wrote the pending text"
        time.sleep(0.01)
    w.close()


async def test_streaming_writer_timer_in_an_event_loop(store):
    import asyncio

    c = store.create_conversation("t", "m")
    m = store.start_assistant_message(c)
    w = StreamingWriter(store, m, interval=0.1)
    w.append("a")
    w.append("b")
    assert isinstance(w._handle, asyncio.TimerHandle)
    deadline = asyncio.get_running_loop().time() + 30  # only for a hang: the loop's timer writes it
    while store.get_message(m).text != "ab":
        assert asyncio.get_running_loop().time() < deadline, "the loop's timer never wrote the pending text"
        await asyncio.sleep(0.01)
    assert store.get_message(m).text == "ab"
    w.reset()
    w.finish("final", status="cancelled")
    assert store.get_message(m).text == "final"


# -- migrations ---------------------------------------------------------------------------------

def test_migrate_from_empty(tmp_path):
    db = tmp_path / "h.db"
    sqlite3.connect(db).close()  # an empty file is a valid, empty database
    with HistoryStore.open(db) as s:
        assert s.schema_version == LATEST
        cols = {r[1] for r in s._conn.execute("PRAGMA table_info(attempts)")}
        assert {"cache_write_tokens", "cache_read_tokens", "ttft_ms", "latency_ms", "request_id"} <= cols
        indexes = {r[0] for r in s._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"attempts_by_start", "conversations_by_update", "messages_by_conversation"} <= indexes


def test_migrate_from_a_hand_built_v1(tmp_path):
    db = tmp_path / "h.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', model TEXT NOT NULL, system TEXT, "
        "created_at REAL NOT NULL, updated_at REAL NOT NULL, open_tab INTEGER)"
    )
    for statement in V1[1:]:  # the released v1 statements for the other tables
        conn.execute(statement)
    conn.execute("INSERT INTO conversations VALUES (1, 'old chat', 'claude-sonnet-4-5', NULL, 1000, 2000, 0)")
    conn.execute("INSERT INTO messages (conversation_id, role, text, status, created_at, updated_at) VALUES (1, 'user', 'hi', 'complete', 1000, 1000)")
    conn.execute(
        "INSERT INTO messages (conversation_id, role, text, status, created_at, updated_at) VALUES (1, 'assistant', 'half', 'streaming', 1001, 1001)"
    )
    conn.execute("INSERT INTO attempts (job_id, conversation_id, model, attempt, status, latency_ms, input_tokens, output_tokens, started_at) "
                 "VALUES ('job-old', 1, 'claude-sonnet-4-5', 1, 'ok', 1234, 10, 20, 1500)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    with HistoryStore.open(db) as s:
        assert s.schema_version == LATEST
        conv = s.get_conversation(1)
        assert conv.title == "old chat" and [m.text for m in conv.messages] == ["hi", "half"]
        assert conv.messages[1].status == "interrupted"  # v1 rows have no writer pid
        [a] = s.attempts()
        assert (a.latency_ms, a.input_tokens, a.cache_read_tokens, a.cache_write_tokens) == (1234, 10, 0, 0)
        assert s.open_tabs() == [1]
        assert s.integrity_check() == "ok"
    with HistoryStore.open(db) as s:  # reopening is a no-op
        assert s.schema_version == LATEST


def test_newer_schema_is_refused_not_moved(tmp_path):
    db = tmp_path / "h.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE x (a)")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match="newer"):
        HistoryStore.open(db)
    assert db.exists() and not list(tmp_path.glob("*.corrupt-*"))


def test_database_file_mode_is_private(tmp_path):
    db = tmp_path / "sub" / "h.db"
    HistoryStore.open(db).close()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
