"""Per-chat settings kept with the conversation (the CHAT_SETTINGS migration), and the app's own state."""

from __future__ import annotations

import sqlite3

from claude_tui.store import HistoryStore
from claude_tui.store.db import StoredChatSettings
from claude_tui.store.schema import CHAT_SETTINGS, LATEST, MIGRATIONS


def test_a_database_from_before_the_migration_gains_the_columns(tmp_path):
    db = tmp_path / "h.db"
    step = MIGRATIONS.index(CHAT_SETTINGS)
    conn = sqlite3.connect(db)
    for statements in MIGRATIONS[:step]:  # the schema as the release before per-chat settings left it
        for statement in statements:
            conn.execute(statement)
    conn.execute("INSERT INTO conversations (id, title, model, system, created_at, updated_at) "
                 "VALUES (1, 'Old chat', 'claude-haiku-4-5', 'Be brief.', 1000, 2000)")
    conn.execute(f"PRAGMA user_version = {step}")
    conn.commit()
    conn.close()

    with HistoryStore.open(db) as store:
        assert store.schema_version == LATEST
        columns = {r[1] for r in store._conn.execute("PRAGMA table_info(conversations)")}
        assert {"max_tokens", "thinking_budget"} <= columns
        # an old conversation keeps its model and system prompt; max tokens unknown (the app's default applies)
        assert store.chat_settings(1) == StoredChatSettings("claude-haiku-4-5", "Be brief.", None, None)
        assert store.set_chat_settings(1, model="claude-sonnet-4-6", system=None, max_tokens=4096, thinking_budget=2048)
        assert store.chat_settings(1) == StoredChatSettings("claude-sonnet-4-6", None, 4096, 2048)
        assert store.get_conversation(1).updated_at == 2000  # a settings change is not activity
        assert store.chat_settings(99) is None and not store.set_chat_settings(99, model="m", system=None, max_tokens=1,
                                                                               thinking_budget=None)


def test_app_state_values_are_kept_and_forgotten(tmp_path):
    with HistoryStore.open(tmp_path / "h.db") as store:
        assert store.state("ui.theme") is None
        store.set_state("ui.theme", '{"value": "midnight", "over": null}')
        store.set_state("ui.theme", '{"value": "phosphor", "over": null}')
        assert store.state("ui.theme") == '{"value": "phosphor", "over": null}'
        store.set_state("ui.theme", None)
        assert store.state("ui.theme") is None


def test_a_system_prompt_holding_a_key_is_stored_redacted(tmp_path):
    with HistoryStore.open(tmp_path / "h.db") as store:
        cid = store.create_conversation("t", "m")
        store.set_chat_settings(cid, model="m", system="use sk-ant-api03-" + "x" * 40, max_tokens=10, thinking_budget=None)
        stored = store.chat_settings(cid)
        assert stored is not None and "x" * 40 not in (stored.system or "")
