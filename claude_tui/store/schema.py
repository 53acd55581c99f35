"""The history schema, as ordered migrations. ``PRAGMA user_version`` is the number applied.

Never edit a released migration: append a new one. Each runs inside one transaction together
with the ``user_version`` bump, so a crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

MESSAGE_STATUSES = ("complete", "streaming", "interrupted", "failed", "cancelled")
ATTEMPT_STATUSES = ("ok", "error", "failed", "cancelled")
#: What took messages off the live branch (``HistoryStore.supersede``).
BRANCH_KINDS = ("regenerate", "edit", "clear", "retry")

# 1: the first release.
V1 = [
    """
    CREATE TABLE conversations (
        id          INTEGER PRIMARY KEY,
        title       TEXT NOT NULL DEFAULT '',
        model       TEXT NOT NULL,
        system      TEXT,
        created_at  REAL NOT NULL,            -- wall clock, epoch seconds
        updated_at  REAL NOT NULL,
        open_tab    INTEGER                   -- position among the open tabs; NULL = not open
    )
    """,
    """
    CREATE TABLE messages (
        id               INTEGER PRIMARY KEY,
        conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role             TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        text             TEXT NOT NULL DEFAULT '',
        thinking         TEXT NOT NULL DEFAULT '',
        stop_reason      TEXT,
        usage            TEXT,                -- JSON: input_tokens, output_tokens, cache_*
        cost             REAL,                -- USD estimate
        status           TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'interrupted', 'failed', 'cancelled')),
        created_at       REAL NOT NULL,
        updated_at       REAL NOT NULL
    )
    """,
    "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
    """
    CREATE TABLE attempts (
        id               INTEGER PRIMARY KEY,
        job_id           TEXT NOT NULL,
        conversation_id  INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
        message_id       INTEGER REFERENCES messages(id) ON DELETE SET NULL,
        model            TEXT,
        attempt          INTEGER NOT NULL,    -- 1-based
        status           TEXT NOT NULL,       -- ok | error (retried) | failed (final) | cancelled
        error_kind       TEXT,
        error_message    TEXT,
        status_code      INTEGER,
        started_at       REAL,                -- wall clock, epoch seconds
        ended_at         REAL,
        ttft_ms          REAL,
        latency_ms       REAL,
        input_tokens     INTEGER NOT NULL DEFAULT 0,
        output_tokens    INTEGER NOT NULL DEFAULT 0,
        cost             REAL,
        request_id       TEXT,
        retries          INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX attempts_by_job ON attempts(job_id)",
]

# 2: cache token counts per attempt (spend stats were missing them); the pid of the process
#    streaming a message, so a second process opening the database does not mark a live
#    stream interrupted; indexes for the stats and list queries, which scan by time.
V2 = [
    "ALTER TABLE messages ADD COLUMN writer_pid INTEGER",
    "ALTER TABLE attempts ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE attempts ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX attempts_by_start ON attempts(started_at)",
    "CREATE INDEX conversations_by_update ON conversations(updated_at)",
]

# Batch spend apart from live spend (issue #12): which attempts were Message Batches items (billed at
#   50 %) and in which batch; the batches a run submitted, so the history says what ran where. One
#   row per (batch, item): a resumed run re-collecting a batch records nothing twice.
BATCH_SPEND = [
    "ALTER TABLE attempts ADD COLUMN mode TEXT NOT NULL DEFAULT 'live'",  # live | batch
    "ALTER TABLE attempts ADD COLUMN batch_id TEXT",
    "CREATE UNIQUE INDEX attempts_by_batch_item ON attempts(batch_id, job_id) WHERE batch_id IS NOT NULL",
    """
    CREATE TABLE batches (
        id            TEXT PRIMARY KEY,         -- the API's message_batch id
        results_file  TEXT,                     -- the run's --out (where its results went)
        requests      INTEGER NOT NULL,
        submitted_at  REAL NOT NULL,            -- wall clock, epoch seconds
        collected_at  REAL                      -- NULL until its results were read
    )
    """,
]

# Full-text search (one self-contained step): FTS5 indexes over message text and conversation
#    titles, as external-content tables (the text is stored once, in messages/conversations),
#    kept current by triggers, and built for the rows already there by 'rebuild'. The update
#    triggers fire only when the indexed column changes ("UPDATE OF text"), so a finished
#    reply's usage/cost/status writes do not re-index it. unicode61 with diacritics folded:
#    "cafe" finds "café".
FTS = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE conversations_fts USING fts5(title, content='conversations', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    """
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END
    """,
    """
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
    END
    """,
    """
    CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.id, old.title);
    END
    """,
    """
    CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.id, old.title);
        INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
    END
    """,
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    "INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild')",
]

# The app's own state that belongs with the conversations (one self-contained step): a key-value
#    table; first key 'active_tab', the conversation whose tab had the focus at quit.
APP_STATE = [
    "CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",  # one page, no separate index
]

# Per-chat settings (issue 13, one self-contained step): a conversation already keeps its model and
#    system prompt; it now keeps its max tokens and extended-thinking budget too, so a restored chat
#    sends as it did. max_tokens NULL: stored before this step (the app's defaults apply to max tokens
#    and thinking); thinking_budget NULL: thinking off.
CHAT_SETTINGS = [
    "ALTER TABLE conversations ADD COLUMN max_tokens INTEGER",
    "ALTER TABLE conversations ADD COLUMN thinking_budget INTEGER",
]

# Branches (one self-contained step): regenerating a reply, editing an earlier prompt and clearing a
#    chat move messages off the live path instead of deleting them. `branches` has one row per such
#    action; `messages.branch` names the earlier branch a message was moved to (NULL = the live
#    branch, which is every message of a database from before this step). The live conversation is
#    its messages with `branch IS NULL`, in id order; earlier branch N is the live messages that
#    preceded its first message plus its own rows. FTS keeps indexing every message.
BRANCHES = [
    """
    CREATE TABLE branches (
        id               INTEGER PRIMARY KEY,
        conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        kind             TEXT NOT NULL CHECK (kind IN ('regenerate', 'edit', 'clear', 'retry')),
        created_at       REAL NOT NULL          -- wall clock, epoch seconds: when it stopped being live
    )
    """,
    "CREATE INDEX branches_by_conversation ON branches(conversation_id, id)",
    "ALTER TABLE messages ADD COLUMN branch INTEGER REFERENCES branches(id) ON DELETE CASCADE",
]

#: MIGRATIONS[i] brings the database from version i to i + 1.
MIGRATIONS: list[list[str]] = [V1, V2, BATCH_SPEND, FTS, APP_STATE, CHAT_SETTINGS, BRANCHES]
LATEST = len(MIGRATIONS)
