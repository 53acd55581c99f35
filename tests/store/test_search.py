"""Full-text search over the history (FTS5): the index follows every write, a database from before
the search migration gets its index built, and `claude-tui history search` shows highlighted snippets."""

from __future__ import annotations

import sqlite3

from claude_tui.store import HistoryStore
from claude_tui.store.schema import LATEST, MIGRATIONS

from .test_store_export_stats_cmd import call

REPLY = (
    "Backoff spreads retries out in time. Each failed attempt waits a little longer than the one before, "
    "and a random jitter keeps a crowd of clients from retrying together, like a herd of wildebeest "
    "crossing a river one at a time rather than all at once. The server gets room to recover."
)


def _fill(store: HistoryStore) -> tuple[int, int]:
    a = store.create_conversation("Retries explained", "claude-sonnet-4-6")
    store.add_user_message(a, "Why use backoff?")
    m = store.start_assistant_message(a)
    store.update_assistant_text(m, REPLY[:40])  # streamed in parts, as the app does
    store.finish_assistant_message(m, REPLY)
    b = store.create_conversation("Café recommendations in Lisbon", "claude-haiku-4-5")
    store.add_user_message(b, "where to get a pastel de nata")
    return a, b


def test_a_word_from_the_middle_of_a_reply_is_found_with_a_snippet(tmp_path):
    with HistoryStore.open(tmp_path / "h.db") as store:
        a, b = _fill(store)
        [hit] = store.search("wildebeest")
        assert hit.id == a and hit.role == "assistant" and hit.title == "Retries explained"
        assert ("wildebeest", True) in hit.snippet
        text = hit.snippet_text
        assert "herd of wildebeest crossing" in text and text.startswith("…") and text.endswith("…")
        assert len(text) < len(REPLY) / 2  # a snippet, not the whole reply
        # words are prefixes, all required, case and accents folded; titles are searched too
        assert [h.id for h in store.search("WILDEBE")] == [a]
        assert [h.id for h in store.search("jitter herd")] == [a]
        assert store.search("jitter nata") == []
        [cafe] = store.search("cafe lisbon")
        assert cafe.id == b and cafe.snippet == () and ("Café", True) in cafe.marked_title
        # FTS5 syntax typed by a user is text, never a query error
        assert store.search('"NEAR(') == [] and store.search("***") == []


def test_the_index_follows_updates_renames_and_deletes(tmp_path):
    with HistoryStore.open(tmp_path / "h.db") as store:
        a, b = _fill(store)
        assert store.search("herd") and not store.search("giraffe")
        m = store.start_assistant_message(b)
        store.update_assistant_text(m, "a giraffe")
        assert [h.id for h in store.search("giraffe")] == [b]
        store.finish_assistant_message(m, "an okapi instead")
        assert store.search("giraffe") == [] and [h.id for h in store.search("okapi")] == [b]
        store.rename(a, "Jitter, in short")
        assert store.search("explained") == [] and [h.id for h in store.search("short")] == [a]
        store.delete(a)
        assert store.search("wildebeest") == [] and store.search("short") == []
        assert store.integrity_check() == "ok"
        rows = store._conn.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
        assert rows is not None  # raises SQLITE_CORRUPT_VTAB if the index disagrees with the table


def test_a_database_from_before_the_search_migration_gets_its_index(tmp_path):
    db = tmp_path / "h.db"
    fts_step = next(i for i, step in enumerate(MIGRATIONS) if any("messages_fts" in s for s in step))
    conn = sqlite3.connect(db)
    for step in MIGRATIONS[:fts_step]:  # the schema as the release before search left it
        for statement in step:
            conn.execute(statement)
    conn.execute("INSERT INTO conversations (id, title, model, created_at, updated_at) VALUES (1, 'Old chat', 'm', 1000, 2000)")
    conn.execute(
        "INSERT INTO messages (conversation_id, role, text, status, created_at, updated_at) "
        f"VALUES (1, 'assistant', '{REPLY}', 'complete', 1000, 1000)"
    )
    conn.execute(f"PRAGMA user_version = {fts_step}")
    conn.commit()
    conn.close()

    with HistoryStore.open(db) as store:
        assert store.schema_version == LATEST
        [hit] = store.search("wildebeest")
        assert hit.id == 1 and hit.title == "Old chat" and ("wildebeest", True) in hit.snippet
        assert [h.id for h in store.search("old")] == [1]
        # and the triggers work on the migrated database
        store.add_user_message(1, "and zebras?")
        assert [h.id for h in store.search("zebras")] == [1]


def test_history_search_command(xdg):
    with HistoryStore.open() as store:
        a, b = _fill(store)
        store.add_user_message(b, "evil \x1b[2J escape")
    code, out, err = call("history", "search", "wildebeest")
    assert (code, err) == (0, "")
    first, second = out.splitlines()
    assert first.split()[0] == str(a) and first.endswith("Retries explained")
    assert first.split()[1].count("-") == 2  # the date
    assert second.strip().startswith("assistant: …") and "herd of «wildebeest» crossing" in second

    code, out, _ = call("history", "search", "cafe")
    assert code == 0 and "«Café» recommendations in Lisbon" in out
    code, out, _ = call("history", "search", "escape")
    assert code == 0 and "\x1b" not in out
    code, out, _ = call("history", "search", "nothing-like-this")
    assert code == 0 and "no conversation matches" in out
    code, out, err = call("history", "search", "***")
    assert code == 2 and "nothing to search for" in err and out == ""


def test_history_search_without_a_database(xdg):
    assert call("history", "search", "x") == (0, "no history yet\n", "")
