"""The TUI's calls to the history store, each failing soft; they know nothing of the app or its tabs.

- Before a turn is submitted, ``start_turn`` makes sure the conversation exists (created on a tab's
  first prompt), stores the prompt (once: a retry reuses it) and starts the assistant message. The
  ids ride on the job's ``Correlation``, and the history recorder (built in ``open_services``, as for
  ``run``) streams the reply into that message, learning everything from the pool's events.
- ``restored_turns`` turns a stored conversation into the finished turns a tab shows.
- Which tabs are open, and restoring them, is the app's (``ClaudeTUI.restore_tabs``).

A store error is logged and handed to ``on_error`` (the app shows it as a notification); the call
returns None / False and the chat goes on.
"""

from __future__ import annotations

import builtins
import logging
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

if TYPE_CHECKING:
    from claude_tui.store import Attempt, Conversation, ConversationSummary, HistoryStore, SearchHit

    from .chat_settings import ChatSettings

log = logging.getLogger("claude_tui.ui")

T = TypeVar("T")

#: A stored message's status → the state its restored turn shows.
RESTORED_STATES = {"complete": "done", "failed": "failed", "cancelled": "cancelled", "interrupted": "cancelled",
                   "streaming": "cancelled"}


@dataclass(frozen=True, slots=True)
class StoredTurn:
    """Where one turn is stored: the ids its job carries (None where the store failed)."""

    conversation_id: int | None = None
    user_message_id: int | None = None
    message_id: int | None = None  # the assistant message the reply streams into


@dataclass(frozen=True, slots=True)
class RestoredTurn:
    """A finished turn read back from the store."""

    prompt: str
    text: str
    state: str
    footer: str
    thinking: str = ""
    user_message_id: int | None = None
    assistant_message_id: int | None = None


class ChatHistory:
    def __init__(self, store: "HistoryStore", *, on_error: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.on_error = on_error
        self.last_error: Exception | None = None

    @property
    def notice(self) -> str | None:
        """One line the store has for the user (a corrupt file moved aside), or None."""
        return self.store.notice

    def _safe(self, what: str, fn: Callable[..., T], *args: object) -> T | None:
        try:
            return fn(*args)
        except Exception as error:  # the store logs its own details; the chat goes on
            self.last_error = error
            log.warning("history: %s failed: %s", what, error)
            if self.on_error is not None:
                self.on_error(f"history: could not {what}: {error}")
            return None

    # -- writing -----------------------------------------------------------------------------
    def start_turn(self, conversation_id: int | None, *, title: str, model: str, system: str | None, prompt: str,
                   user_message_id: int | None = None) -> StoredTurn:
        """Store a prompt before its request goes out (``user_message_id`` set: a retry, stored already)."""
        cid = conversation_id
        if cid is None:
            cid = self._safe("create the conversation", self.store.create_conversation, title, model, system)
            if cid is None:
                return StoredTurn()
        mid = user_message_id
        if mid is None:
            mid = self._safe("save the prompt", self.store.add_user_message, cid, prompt)
            if mid is None:
                return StoredTurn(cid)
        reply = self._safe("start the reply", self.store.start_assistant_message, cid)
        return StoredTurn(cid, mid, reply)

    def supersede(self, conversation_id: int, from_message_id: int | None, kind: str) -> None:
        """Move the live messages from ``from_message_id`` on (all: None) to an earlier branch
        (regenerate, edit, clear, retry): the conversation continues without them; nothing is deleted."""
        self._safe("keep the earlier branch", self.store.supersede, conversation_id, from_message_id, kind)

    def name(self, conversation_id: int, title: str) -> None:
        self._safe("name the conversation", self.store.rename, conversation_id, title)

    def remember_open_tabs(self, conversation_ids: Iterable[int], active: int | None = None) -> None:
        """The open tabs, in order, and the one shown (``active``) so a relaunch returns to it."""
        self._safe("remember the open tabs", self.store.set_open_tabs, list(conversation_ids), active)

    def active_tab(self) -> int | None:
        return self._safe("read the tab left", self.store.active_tab)

    def save_settings(self, conversation_id: int, settings: "ChatSettings") -> None:
        """The chat's model, system prompt, max tokens and thinking budget, kept with its conversation."""
        self._safe("save the chat's settings", partial(self.store.set_chat_settings, conversation_id, model=settings.model,
                   system=settings.system, max_tokens=settings.max_tokens, thinking_budget=settings.thinking_budget))

    def load_settings(self, conversation_id: int, defaults: "ChatSettings") -> "ChatSettings":
        """The conversation's settings; what it does not keep (stored before it kept them) from ``defaults``."""
        stored = self._safe("read the chat's settings", self.store.chat_settings, conversation_id)
        if stored is None:
            return defaults
        settings = replace(defaults, model=stored.model or defaults.model, system=stored.system or None)
        if stored.max_tokens is not None:  # kept with the conversation: thinking too (None = off)
            settings = replace(settings, max_tokens=stored.max_tokens, thinking_budget=stored.thinking_budget)
        return settings

    def remembered(self, key: str) -> str | None:
        """The app's own state under ``key`` (a setting changed in the app), or None."""
        return self._safe("read the app's state", self.store.state, key)

    def remember(self, key: str, value: str | None) -> None:
        self._safe("save the app's state", self.store.set_state, key, value)

    def rename(self, conversation_id: int, title: str) -> bool:
        return bool(self._safe("rename", self.store.rename, conversation_id, title))

    def delete(self, conversation_id: int) -> bool:
        return bool(self._safe("delete", self.store.delete, conversation_id))

    # -- reading -----------------------------------------------------------------------------
    def open_tabs(self) -> list[int]:
        return self._safe("read the open tabs", self.store.open_tabs) or []

    def load(self, conversation_id: int) -> "Conversation | None":
        return self._safe("read the conversation", self.store.get_conversation, conversation_id)

    def list(self, search: str | None = None) -> "list[ConversationSummary]":
        return self._safe("list conversations", self.store.list_conversations, search or None, 200) or []

    def attempts_for(self, message_id: int) -> "builtins.list[Attempt]":
        """The stored attempts of one reply, oldest first (a failed turn restored from history has no events)."""
        return self._safe("read the attempts", partial(self.store.attempts, message_id=message_id)) or []

    def spend_by_mode(self) -> dict[str, float]:
        """Stored spend by billing mode (``live``, ``batch``): what the history says was spent, all sessions."""
        rows = self._safe("read the spend", self.store.spend_by_mode) or []
        return {row.mode: row.cost for row in rows}

    def search(self, text: str) -> "builtins.list[SearchHit]":
        """Full-text matches (FTS5), one per conversation, newest first, with highlighted snippets."""
        return self._safe("search the history", self.store.search, text, 200) or []


def restored_turns(conv: "Conversation") -> list[RestoredTurn]:
    """The turns a stored conversation shows: prompt + reply pairs; a prompt with no reply is cancelled."""
    turns: list[RestoredTurn] = []
    pending: tuple[str, int] | None = None
    for message in conv.messages:
        if message.role == "user":
            if pending is not None:  # a prompt with no reply stored
                turns.append(RestoredTurn(pending[0], "", "cancelled", "no reply stored", user_message_id=pending[1]))
            pending = (message.text, message.id)
            continue
        if pending is None:
            continue
        state = RESTORED_STATES.get(message.status, "done")
        parts = [conv.model]
        if message.usage:
            parts.append(f"{message.usage.get('output_tokens', 0)} tokens out")
        if message.cost is not None:
            parts.append(f"${message.cost:.4f} (estimate)")
        parts.append("from history" if state == "done" else f"{message.status} (from history)")
        if state == "failed":
            parts.append("details: click here, or Shift+Tab to this line and Enter")
        turns.append(RestoredTurn(pending[0], message.text, state, " · ".join(parts), message.thinking,
                                  user_message_id=pending[1], assistant_message_id=message.id))
        pending = None
    if pending is not None:
        turns.append(RestoredTurn(pending[0], "", "cancelled", "no reply stored", user_message_id=pending[1]))
    return turns
