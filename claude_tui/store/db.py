"""The SQLite history: conversations, messages and one row per request attempt.

WAL journal, a busy timeout and short transactions, so two processes (the app and a headless
run) can write at once. Opening migrates the schema, marks messages left ``streaming`` by a
dead process as ``interrupted``, and moves an unreadable file aside instead of overwriting it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sqlite3
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from .. import paths
from ..engine.redact import redact
from .models import Attempt, Branch, Conversation, ConversationSummary, Message, SearchHit, Segment, StatsRow, percentiles
from .schema import ATTEMPT_STATUSES, BRANCH_KINDS, LATEST, MESSAGE_STATUSES, MIGRATIONS

__all__ = ["BatchRecord", "HistoryError", "HistoryStore", "ModeSpend", "StoredChatSettings"]


@dataclass(frozen=True, slots=True)
class ModeSpend:
    """Spend of one billing mode: ``live`` (list price) or ``batch`` (Message Batches, 50 %)."""

    mode: str
    requests: int
    input_tokens: int
    output_tokens: int
    cost: float


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A Message Batch a run submitted (``run --mode batch``)."""

    id: str
    results_file: str | None
    requests: int
    submitted_at: float
    collected_at: float | None


@dataclass(frozen=True, slots=True)
class StoredChatSettings:
    """A conversation's request settings. ``max_tokens`` None: stored before conversations kept it
    (the front end's defaults apply); ``thinking_budget`` None: extended thinking off."""

    model: str
    system: str | None
    max_tokens: int | None
    thinking_budget: int | None

_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class HistoryError(Exception):
    """The history database cannot be used. ``str()`` is one line."""


class _Unreadable(Exception):
    pass


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return True
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _usage_json(usage: Any) -> str | None:
    if usage is None:
        return None
    if hasattr(usage, "as_dict"):
        usage = usage.as_dict()
    return json.dumps(dict(usage), sort_keys=True)


#: Snippet markers: control characters (STX, ETX) that typed or pasted text does not contain.
_OPEN, _CLOSE = "\x02", "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def fts_query(text: str) -> str | None:
    """The FTS5 query for what a user typed: every word, as a prefix, all required.

    Each word is quoted, so FTS5's own syntax (AND, NEAR, column filters, ``*``, quotes) typed by a
    user is searched for as text rather than failing as a query; the ``*`` makes a word still being
    typed match ("aardv" finds "aardvark"). None when there is no word to search for.
    """
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def _segments(marked: str | None) -> tuple[Segment, ...]:
    """``"a \x02b\x03 c"`` → ``(("a ", False), ("b", True), (" c", False))``; one line, no control characters."""
    if not marked:
        return ()
    out: list[Segment] = []
    for i, part in enumerate(re.split(f"[{_OPEN}{_CLOSE}]", " ".join(marked.split()))):
        part = _CONTROL.sub("", part)  # an escape sequence pasted into a prompt must not reach a terminal
        if part:
            out.append((part, i % 2 == 1))
    return tuple(out)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class HistoryStore:
    """Open with ``HistoryStore.open()``; safe to share between threads of one process."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, notice: str | None = None) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._depth = 0  # transactions open (> 1: savepoints inside a batch)
        self.path = path
        #: One line for the app to show when opening needed attention (e.g. a corrupt file moved
        #: aside), else None.
        self.notice = notice
        #: Messages found ``streaming`` by a dead process at open, now ``interrupted``.
        self.recovered: list[int] = []

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, busy_timeout: float = 10.0) -> "HistoryStore":
        """Open (creating if needed) the history at ``path`` (default: the user data dir)."""
        if path is None:
            paths.ensure_data_dir()
            db = paths.history_db()
        else:
            db = Path(path).expanduser()
            db.parent.mkdir(parents=True, exist_ok=True)
        notice = None
        try:
            conn = cls._connect(db, busy_timeout)
        except _Unreadable as exc:
            moved = _move_aside(db)
            notice = f"history database was unreadable ({exc}); moved to {moved}; started a new one"
            try:
                conn = cls._connect(db, busy_timeout)
            except _Unreadable as again:  # pragma: no cover - a fresh file should always open
                raise HistoryError(f"history database {db} cannot be created: {again}") from None
        store = cls(conn, db, notice=notice)
        store._recover_streaming()
        return store

    @staticmethod
    def _connect(db: Path, busy_timeout: float) -> sqlite3.Connection:
        # Check the header ourselves first: SQLite, handed a file that is not a database, may
        # still delete or reset its -wal on close, and we want every byte kept for the move.
        try:
            with open(db, "rb") as fh:
                header = fh.read(16)
        except FileNotFoundError:
            header = None
        except OSError as exc:
            raise HistoryError(f"history database {db} cannot be read: {exc.strerror or exc}") from None
        if header and header != b"SQLite format 3\x00":
            raise _Unreadable("file is not a database")
        if header is None:
            try:  # history holds prompts: private from the start (-wal/-shm inherit the mode)
                os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))
            except OSError as exc:
                raise HistoryError(f"history database {db} cannot be created: {exc.strerror or exc}") from None
        try:
            conn = sqlite3.connect(db, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise HistoryError(f"history database {db} cannot be opened: {exc}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")  # fails here on a file that is not a database
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: safe against a killed process
            conn.execute("PRAGMA foreign_keys = ON")
            check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if check != "ok":
                raise _Unreadable(f"integrity check failed: {check}")
            _migrate(conn)
        except _Unreadable:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            if _is_corruption(exc):
                raise _Unreadable(str(exc)) from None
            raise HistoryError(f"history database {db} cannot be used: {exc}") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _recover_streaming(self) -> None:
        with self._tx() as conn:
            rows = conn.execute("SELECT id, writer_pid FROM messages WHERE status = 'streaming'").fetchall()
            dead = [mid for mid, pid in rows if not _pid_alive(pid)]
            for mid in dead:
                conn.execute("UPDATE messages SET status = 'interrupted', writer_pid = NULL WHERE id = ?", (mid,))
        self.recovered = dead

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close; this process's messages still ``streaming`` become ``interrupted``."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute(
                    "UPDATE messages SET status = 'interrupted', writer_pid = NULL WHERE status = 'streaming' AND writer_pid = ?",
                    (os.getpid(),),
                )
            except sqlite3.Error:
                pass
            self._conn.close()
            self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> "HistoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; inside ``transaction()`` a savepoint of it, so one failed write
        undoes only itself and the batch's other writes still commit."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise HistoryError("history store is closed")
            nested = self._depth > 0
            conn.execute("SAVEPOINT w" if nested else "BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield conn
            except BaseException:
                try:
                    conn.execute("ROLLBACK TO w" if nested else "ROLLBACK")
                    if nested:
                        conn.execute("RELEASE w")
                except sqlite3.Error:  # SQLite already rolled back (e.g. disk full): keep the first error
                    pass
                raise
            finally:
                self._depth -= 1
            conn.execute("RELEASE w" if nested else "COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around many writes (``store.writer.WriteBatcher``): every store method
        called inside it, from this thread, joins it and is committed with the others."""
        with self._tx():
            yield

    def _query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            if self._conn is None:
                raise HistoryError("history store is closed")
            cur = self._conn.execute(sql, params if isinstance(params, dict) else tuple(params))
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    # -- conversations ------------------------------------------------------------------------
    def create_conversation(self, title: str = "", model: str = "", system: str | None = None) -> int:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO conversations (title, model, system, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (redact(title or ""), model, redact(system) if system else system, now, now),
            )
            assert cur.lastrowid is not None  # an INSERT always sets it
            return cur.lastrowid

    def rename(self, conversation_id: int, title: str) -> bool:
        with self._tx() as conn:
            cur = conn.execute("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?", (redact(title), time.time(), conversation_id))
            return cur.rowcount > 0

    def set_model(self, conversation_id: int, model: str, system: str | None = None) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE conversations SET model = ?, system = ?, updated_at = ? WHERE id = ?", (model, redact(system) if system else system, time.time(), conversation_id)
            )
            return cur.rowcount > 0

    def chat_settings(self, conversation_id: int) -> StoredChatSettings | None:
        """The conversation's model, system prompt, max tokens and thinking budget (None: no such conversation)."""
        rows = self._query("SELECT model, system, max_tokens, thinking_budget FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            return None
        r = rows[0]
        return StoredChatSettings(r["model"], r["system"], r["max_tokens"], r["thinking_budget"])

    def set_chat_settings(self, conversation_id: int, *, model: str, system: str | None, max_tokens: int | None,
                          thinking_budget: int | None) -> bool:
        """Keep the settings the conversation's next requests use (``updated_at`` unchanged: not activity)."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE conversations SET model = ?, system = ?, max_tokens = ?, thinking_budget = ? WHERE id = ?",
                (model, redact(system) if system else None, max_tokens, thinking_budget, conversation_id),
            )
            return cur.rowcount > 0

    def delete(self, conversation_id: int) -> bool:
        """Delete a conversation and its messages (its attempt rows stay, unlinked, for spend stats)."""
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            return cur.rowcount > 0

    def list_conversations(self, search: str | None = None, limit: int = 50, offset: int = 0) -> list[ConversationSummary]:
        """Newest (last updated) first; ``search`` matches titles and message text (case-insensitive)."""
        where, params = "", []
        if search:
            where = (
                "WHERE c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages s "
                "WHERE s.conversation_id = c.id AND (s.text LIKE ? ESCAPE '\\'))"
            )
            params = [_like(search), _like(search)]
        rows = self._query(
            f"""
            SELECT c.id, c.title, c.model, c.created_at, c.updated_at, c.open_tab,
                   (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.branch IS NULL) AS message_count,
                   (SELECT substr(m.text, 1, 200) FROM messages m WHERE m.conversation_id = c.id AND m.role = 'user'
                    AND m.branch IS NULL ORDER BY m.id LIMIT 1) AS preview
            FROM conversations c {where}
            ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?
            """,
            [*params, int(limit), int(offset)],
        )
        return [
            ConversationSummary(r["id"], r["title"], r["model"], r["created_at"], r["updated_at"], r["open_tab"], r["message_count"], r["preview"] or "")
            for r in rows
        ]

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over titles and message text (FTS5), newest conversation first.

        One hit per conversation, with the title's matched words marked and a snippet (about 16 words
        around the match) from its best-ranked (bm25) matching message. Words match as prefixes, all
        of them required, case and diacritics folded.
        """
        query = fts_query(text)
        if query is None:
            return []
        # snippet() and bm25() run in the plain per-row query (m0); the per-conversation pick of the
        # best row is a second step, because auxiliary FTS functions cannot run inside an aggregate.
        rows = self._query(
            f"""
            WITH t AS (
                SELECT rowid AS cid, highlight(conversations_fts, 0, '{_OPEN}', '{_CLOSE}') AS title_hl
                FROM conversations_fts WHERE conversations_fts MATCH :q
            ), m0 AS MATERIALIZED (
                SELECT mm.conversation_id AS cid, mm.id AS mid, mm.role AS role, mm.branch IS NOT NULL AS earlier,
                       snippet(messages_fts, 0, '{_OPEN}', '{_CLOSE}', '…', 16) AS snip,
                       -- bm25 is negative, smaller is better: a live-branch match always ranks first
                       bm25(messages_fts) + (mm.branch IS NOT NULL) * 1e9 AS score
                FROM messages_fts JOIN messages mm ON mm.id = messages_fts.rowid
                WHERE messages_fts MATCH :q
            ), m AS (
                SELECT cid, mid, role, earlier, snip, MIN(score) AS score FROM m0 GROUP BY cid
            ), ids AS (
                SELECT cid FROM t UNION SELECT cid FROM m
            )
            SELECT c.id, c.title, c.model, c.created_at, c.updated_at, t.title_hl, m.mid, m.role, m.earlier, m.snip,
                   (SELECT COUNT(*) FROM messages x WHERE x.conversation_id = c.id AND x.branch IS NULL) AS message_count
            FROM ids JOIN conversations c ON c.id = ids.cid
            LEFT JOIN t ON t.cid = c.id LEFT JOIN m ON m.cid = c.id
            ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit
            """,
            {"q": query, "limit": int(limit)},
        )
        return [
            SearchHit(
                id=r["id"],
                title=r["title"],
                model=r["model"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                message_count=r["message_count"],
                message_id=r["mid"],
                role=r["role"],
                marked_title=_segments(r["title_hl"] or r["title"]),
                snippet=_segments(r["snip"]),
                earlier_branch=bool(r["earlier"]),
            )
            for r in rows
        ]

    def get_conversation(self, conversation_id: int, *, branches: bool = False) -> Conversation | None:
        """The conversation with its live branch in ``messages``; with ``branches``, the earlier ones too."""
        rows = self._query("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            return None
        c = rows[0]
        live = "" if branches else " AND branch IS NULL"
        stored = [self._message(r) for r in self._query(f"SELECT * FROM messages WHERE conversation_id = ?{live} ORDER BY id", (conversation_id,))]
        earlier = self._branches(conversation_id, stored) if branches else ()
        messages = tuple(m for m in stored if m.branch is None)
        return Conversation(c["id"], c["title"], c["model"], c["system"], c["created_at"], c["updated_at"], c["open_tab"], messages, earlier)

    def _branches(self, conversation_id: int, stored: list[Message]) -> tuple[Branch, ...]:
        """Each earlier branch with its messages and the message it forked after: the last message
        before its first one that was still live when it was made (live now, or moved by a later branch)."""
        out = []
        for r in self._query("SELECT id, kind, created_at FROM branches WHERE conversation_id = ? ORDER BY id", (conversation_id,)):
            own = tuple(m for m in stored if m.branch == r["id"])
            first = own[0].id if own else None
            shared = [m.id for m in stored if first is not None and m.id < first and (m.branch is None or m.branch > r["id"])]
            out.append(Branch(r["id"], r["kind"], r["created_at"], shared[-1] if shared else None, own))
        return tuple(out)

    def get_message(self, message_id: int) -> Message | None:
        rows = self._query("SELECT * FROM messages WHERE id = ?", (message_id,))
        return self._message(rows[0]) if rows else None

    @staticmethod
    def _message(r: sqlite3.Row) -> Message:
        usage = json.loads(r["usage"]) if r["usage"] else None
        return Message(
            r["id"], r["conversation_id"], r["role"], r["text"], r["thinking"], r["stop_reason"], usage, r["cost"], r["status"],
            r["created_at"], r["updated_at"], r["branch"],
        )

    def supersede(self, conversation_id: int, from_message_id: int | None, kind: str) -> int | None:
        """Move the live messages from ``from_message_id`` on (all of them when None) to a new earlier
        branch, so the conversation continues without them and nothing is deleted.

        Regenerate passes the reply it replaces, an edit the prompt it replaces, a clear None. Returns
        the branch id, or None when no live message was there to move (nothing is recorded then).
        """
        if kind not in BRANCH_KINDS:
            raise ValueError(f"branch kind must be one of {', '.join(BRANCH_KINDS)}; got {kind!r}")
        now = time.time()
        with self._tx() as conn:
            start = -1 if from_message_id is None else from_message_id
            moving = conn.execute(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND branch IS NULL AND id >= ?", (conversation_id, start)
            ).fetchone()[0]
            if not moving:
                return None
            cur = conn.execute("INSERT INTO branches (conversation_id, kind, created_at) VALUES (?, ?, ?)", (conversation_id, kind, now))
            branch = cur.lastrowid
            conn.execute("UPDATE messages SET branch = ? WHERE conversation_id = ? AND branch IS NULL AND id >= ?",
                         (branch, conversation_id, start))
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
            return branch

    def open_tabs(self) -> list[int]:
        """Ids of the conversations that were open as tabs, in tab order."""
        return [r["id"] for r in self._query("SELECT id FROM conversations WHERE open_tab IS NOT NULL ORDER BY open_tab, id")]

    def set_open_tabs(self, conversation_ids: Iterable[int], active: int | None = None) -> None:
        """Remember the open tabs in order, and which one had the focus (``active``, one of them)."""
        ids = list(conversation_ids)
        with self._tx() as conn:
            conn.execute("UPDATE conversations SET open_tab = NULL WHERE open_tab IS NOT NULL")
            for position, cid in enumerate(ids):
                conn.execute("UPDATE conversations SET open_tab = ? WHERE id = ?", (position, cid))
            if active in ids:
                conn.execute("INSERT OR REPLACE INTO app_state (key, value) VALUES ('active_tab', ?)", (str(active),))
            else:
                conn.execute("DELETE FROM app_state WHERE key = 'active_tab'")

    def active_tab(self) -> int | None:
        """The conversation whose tab had the focus when the open tabs were last saved, if still open."""
        rows = self._query(
            "SELECT c.id FROM app_state s JOIN conversations c ON c.id = CAST(s.value AS INTEGER) "
            "WHERE s.key = 'active_tab' AND c.open_tab IS NOT NULL"
        )
        return int(rows[0]["id"]) if rows else None

    def state(self, key: str) -> str | None:
        """A value of the app's own state (``app_state``), e.g. a setting changed in the app."""
        rows = self._query("SELECT value FROM app_state WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def set_state(self, key: str, value: str | None) -> None:
        """Remember ``value`` under ``key`` (None forgets it)."""
        with self._tx() as conn:
            if value is None:
                conn.execute("DELETE FROM app_state WHERE key = ?", (key,))
            else:
                conn.execute("INSERT OR REPLACE INTO app_state (key, value) VALUES (?, ?)", (key, value))

    # -- messages -----------------------------------------------------------------------------
    def _add_message(self, conversation_id: int, role: str, text: str, status: str, writer_pid: int | None = None) -> int:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO messages (conversation_id, role, text, status, created_at, updated_at, writer_pid) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, redact(text), status, now, now, writer_pid),
            )
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
            assert cur.lastrowid is not None  # an INSERT always sets it
            return cur.lastrowid

    def add_user_message(self, conversation_id: int, text: str) -> int:
        """Store the prompt (call before the request is sent)."""
        return self._add_message(conversation_id, "user", text, "complete")

    def add_assistant_message(self, conversation_id: int, text: str, *, status: str = "complete") -> int:
        """A finished assistant message in one go (imports, tests)."""
        return self._add_message(conversation_id, "assistant", text, status)

    def start_assistant_message(self, conversation_id: int) -> int:
        """An empty assistant message in status ``streaming``, owned by this process."""
        return self._add_message(conversation_id, "assistant", "", "streaming", os.getpid())

    def update_assistant_text(self, message_id: int, text: str, thinking: str = "") -> None:
        """Save the reply so far. Cheap, but call it through a ``StreamingWriter`` (≤ 2×/s)."""
        with self._lock:
            if self._conn is None:
                raise HistoryError("history store is closed")
            self._conn.execute("UPDATE messages SET text = ?, thinking = ?, updated_at = ? WHERE id = ?", (redact(text), redact(thinking), time.time(), message_id))

    def finish_assistant_message(
        self,
        message_id: int,
        text: str,
        thinking: str = "",
        stop_reason: str | None = None,
        usage: Any = None,
        cost: float | None = None,
        status: str = "complete",
    ) -> None:
        if status not in MESSAGE_STATUSES or status == "streaming":
            raise ValueError(f"a finished message's status must be one of complete, interrupted, failed, cancelled; got {status!r}")
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                "UPDATE messages SET text = ?, thinking = ?, stop_reason = ?, usage = ?, cost = ?, status = ?, updated_at = ?, "
                "writer_pid = NULL WHERE id = ?",
                (redact(text), redact(thinking or ""), stop_reason, _usage_json(usage), cost, status, now, message_id),
            )
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)", (now, message_id))

    # -- attempts -----------------------------------------------------------------------------
    def record_attempt(
        self,
        job_id: str,
        *,
        attempt: int,
        status: str,
        model: str | None = None,
        conversation_id: int | None = None,
        message_id: int | None = None,
        error_kind: str | None = None,
        error_message: str | None = None,
        status_code: int | None = None,
        started_at: float | None = None,
        ended_at: float | None = None,
        ttft_ms: float | None = None,
        latency_ms: float | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_write_tokens: int = 0,
        cache_read_tokens: int = 0,
        cost: float | None = None,
        request_id: str | None = None,
        retries: int = 0,
    ) -> int:
        """One request attempt (times are wall clock, epoch seconds). Returns the row id."""
        if status not in ATTEMPT_STATUSES:
            raise ValueError(f"attempt status must be one of {', '.join(ATTEMPT_STATUSES)}; got {status!r}")
        with self._tx() as conn:
            cur = conn.execute(
                """INSERT INTO attempts (job_id, conversation_id, message_id, model, attempt, status, error_kind, error_message,
                   status_code, started_at, ended_at, ttft_ms, latency_ms, input_tokens, output_tokens, cache_write_tokens,
                   cache_read_tokens, cost, request_id, retries)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (job_id, conversation_id, message_id, model, attempt, status, error_kind, redact(error_message or "") or None, status_code, started_at,
                 ended_at, ttft_ms, latency_ms, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost, request_id,
                 retries),
            )
            assert cur.lastrowid is not None  # an INSERT always sets it
            return cur.lastrowid

    def set_attempt_status(self, attempt_row_id: int, status: str) -> None:
        if status not in ATTEMPT_STATUSES:
            raise ValueError(f"attempt status must be one of {', '.join(ATTEMPT_STATUSES)}; got {status!r}")
        with self._tx() as conn:
            conn.execute("UPDATE attempts SET status = ? WHERE id = ?", (status, attempt_row_id))

    def attempts(self, *, job_id: str | None = None, conversation_id: int | None = None, message_id: int | None = None,
                 limit: int | None = None) -> list[Attempt]:
        clauses: list[str] = []
        params: list[str | int] = []
        if job_id is not None:
            clauses.append("job_id = ?")
            params.append(job_id)
        if message_id is not None:  # the attempts that streamed into one reply (a restored failure's details)
            clauses.append("message_id = ?")
            params.append(message_id)
        if conversation_id is not None:
            clauses.append("conversation_id = ?")
            params.append(conversation_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        tail = f" LIMIT {int(limit)}" if limit else ""
        cols = ", ".join(Attempt.__slots__)
        rows = self._query(f"SELECT {cols} FROM attempts {where} ORDER BY id{tail}", params)
        return [Attempt(*tuple(r)) for r in rows]

    # -- Message Batches ----------------------------------------------------------------------
    def record_batch(self, batch_id: str, *, results_file: str | None, requests: int, submitted_at: float) -> None:
        """A batch a run submitted (again after a resume: ignored)."""
        with self._tx() as conn:
            conn.execute("INSERT OR IGNORE INTO batches (id, results_file, requests, submitted_at) VALUES (?, ?, ?, ?)",
                         (batch_id, results_file, requests, submitted_at))

    def batch_collected(self, batch_id: str, at: float | None = None) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE batches SET collected_at = COALESCE(collected_at, ?) WHERE id = ?", (at or time.time(), batch_id))

    def batches(self, *, results_file: str | None = None) -> list[BatchRecord]:
        where, params = ("WHERE results_file = ?", [results_file]) if results_file is not None else ("", [])
        rows = self._query(f"SELECT id, results_file, requests, submitted_at, collected_at FROM batches {where} ORDER BY submitted_at, id", params)
        return [BatchRecord(*tuple(r)) for r in rows]

    def record_batch_item(
        self,
        batch_id: str,
        custom_id: str,
        *,
        status: str,
        model: str | None,
        cost: float | None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_write_tokens: int = 0,
        cache_read_tokens: int = 0,
        started_at: float | None = None,
        ended_at: float | None = None,
        error_kind: str | None = None,
        error_message: str | None = None,
    ) -> bool:
        """One batch item's result as an attempt row (mode ``batch``); False if it was already recorded."""
        if status not in ATTEMPT_STATUSES:
            raise ValueError(f"attempt status must be one of {', '.join(ATTEMPT_STATUSES)}; got {status!r}")
        with self._tx() as conn:
            cur = conn.execute(
                """INSERT OR IGNORE INTO attempts (job_id, model, attempt, status, error_kind, error_message, started_at, ended_at,
                   input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost, mode, batch_id)
                   VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'batch', ?)""",
                (custom_id, model, status, error_kind, redact(error_message or "") or None, started_at, ended_at, input_tokens,
                 output_tokens, cache_write_tokens, cache_read_tokens, cost, batch_id),
            )
            return cur.rowcount > 0

    def spend_by_mode(self, *, since: float | None = None, until: float | None = None) -> list[ModeSpend]:
        """Live and batch spend apart (batch items are billed at half price; their cost is stored so)."""
        where, params = _time_window(since, until)
        rows = self._query(
            f"""SELECT mode, COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cost), 0.0)
                FROM attempts {where} GROUP BY mode ORDER BY mode DESC""",
            params,
        )
        return [ModeSpend(r[0], int(r[1]), int(r[2]), int(r[3]), float(r[4])) for r in rows]

    # -- stats --------------------------------------------------------------------------------
    def stats(self, *, since: float | None = None, until: float | None = None) -> list[StatsRow]:
        """Per local day and model: requests, tokens, cost, and latency/TTFT p50/p95/p99 (ms)."""
        where, params = _time_window(since, until)
        rows = self._query(
            f"""SELECT job_id, COALESCE(model, '?') AS model, status, COALESCE(started_at, ended_at, 0) AS at, ttft_ms, latency_ms,
                       input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost
                FROM attempts {where}""",
            params,
        )
        groups: dict[tuple[str, str], list[sqlite3.Row]] = defaultdict(list)
        for r in rows:
            day = _dt.datetime.fromtimestamp(r["at"]).strftime("%Y-%m-%d")
            groups[(day, r["model"])].append(r)
        out = []
        for (day, model), items in sorted(groups.items()):
            ok = [r for r in items if r["status"] == "ok"]
            out.append(
                StatsRow(
                    day=day,
                    model=model,
                    requests=len(items),
                    jobs=len({r["job_id"] for r in items}),
                    errors=sum(1 for r in items if r["status"] != "ok"),
                    input_tokens=sum(r["input_tokens"] for r in items),
                    output_tokens=sum(r["output_tokens"] for r in items),
                    cache_write_tokens=sum(r["cache_write_tokens"] for r in items),
                    cache_read_tokens=sum(r["cache_read_tokens"] for r in items),
                    cost=sum(r["cost"] or 0.0 for r in items),
                    latency_ms=percentiles([r["latency_ms"] for r in ok if r["latency_ms"] is not None]),
                    ttft_ms=percentiles([r["ttft_ms"] for r in ok if r["ttft_ms"] is not None]),
                )
            )
        return out

    def integrity_check(self) -> str:
        with self._lock:
            return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this database lacks, each in its own transaction."""
    while True:
        conn.execute("BEGIN IMMEDIATE")  # re-read the version under the write lock: another process may migrate too
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > LATEST:
                raise HistoryError(f"history database schema version {version} is newer than this claude-tui knows ({LATEST}); upgrade claude-tui")
            if version == LATEST:
                conn.execute("COMMIT")
                return
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _move_aside(db: Path) -> Path:
    """Rename ``db`` (and its -wal/-shm) to ``db.corrupt-YYYYmmdd-HHMMSS``, never over an existing file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = db.with_name(f"{db.name}.corrupt-{stamp}")
    n = 2
    while any(Path(str(target) + suffix).exists() for suffix in ("", "-wal", "-shm")):
        target = db.with_name(f"{db.name}.corrupt-{stamp}-{n}")
        n += 1
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(db) + suffix)
        if src.exists():
            os.replace(src, Path(str(target) + suffix))
    return target


def _time_window(since: float | None, until: float | None) -> tuple[str, list[float]]:
    """The WHERE clause (and its parameters) for attempts started in [since, until)."""
    clauses: list[str] = []
    params: list[float] = []
    if since is not None:
        clauses.append("COALESCE(started_at, ended_at) >= ?")
        params.append(since)
    if until is not None:
        clauses.append("COALESCE(started_at, ended_at) < ?")
        params.append(until)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params
