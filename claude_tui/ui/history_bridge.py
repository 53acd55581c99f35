"""All access to the history store from the UI goes through here, so the app works with ``store=None``.

- Before a turn is submitted: the conversation exists (created on a tab's first prompt), the user
  message is written, an assistant message is started, and the store's recorder is told which
  message the job streams into (``HistoryRecorder.track``), so its throttled ``StreamingWriter``
  saves the reply as it streams and finalises it on Done / Failed / Cancelled.
- ``Job.tag`` stays the tab id (per-tab metrics); the store's ids travel via ``track``.
- The tabs open at exit are remembered (``set_open_tabs``) and reopened at start.
Store errors are shown as notifications and never break the chat.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_tui.engine.events import JobEvent
    from claude_tui.engine.job import Job

    from .app import ClaudeTUI
    from .widgets.chat_view import ChatView, Turn

log = logging.getLogger("claude_tui.ui")

_STATES = {"complete": "done", "failed": "failed", "cancelled": "cancelled", "interrupted": "cancelled", "streaming": "cancelled"}


class HistoryBridge:
    def __init__(self, store: Any, *, prices: Any = None) -> None:
        from claude_tui.store import HistoryRecorder

        self.store = store
        self.recorder = HistoryRecorder(store, prices=prices)
        self.app: ClaudeTUI | None = None
        self.last_error: Exception | None = None

    # -- safety ------------------------------------------------------------------------------
    def _safe(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as error:  # the store logs its own details; the chat goes on
            self.last_error = error
            log.warning("history: %s failed: %s", what, error)
            if self.app is not None:
                self.app.notify(f"history: could not {what}: {error}", severity="warning", timeout=5)
            return None

    # -- writing -----------------------------------------------------------------------------
    def observe(self, event: "JobEvent") -> None:
        self.recorder.observe(event)  # never raises: the recorder keeps its own last_error

    def conversation_id(self, chat: "ChatView") -> int | None:
        cid = chat.meta.get("conversation_id")
        if cid is None and self.app is not None:
            cid = self._safe(
                "create the conversation", self.store.create_conversation, chat.title, self.app.model, self.app.system_prompt
            )
            if cid is not None:
                chat.meta["conversation_id"] = cid
                self.save_open_tabs()
        return cid

    def user_message(self, chat: "ChatView", turn: "Turn", job: "Job") -> None:
        cid = self.conversation_id(chat)
        if cid is None:
            return
        if "user_message_id" not in turn.meta:  # a retry reuses the prompt already stored
            mid = self._safe("save the prompt", self.store.add_user_message, cid, turn.prompt)
            if mid is None:
                return
            turn.meta["user_message_id"] = mid
        msg = self._safe("start the reply", self.store.start_assistant_message, cid)
        if msg is None:
            return
        turn.meta["assistant_message_id"] = msg
        from claude_tui.store import HistoryTag

        self.recorder.track(SimpleNamespace(id=job.id, model=job.model, tag=HistoryTag(cid, msg, job.model, chat.tab_id)))

    def turn_finished(self, chat: "ChatView", turn: "Turn", event: "JobEvent | None") -> None:
        cid = chat.meta.get("conversation_id")
        if cid is not None and chat.turns and turn is chat.turns[0] and chat.auto_title and not chat.meta.get("titled"):
            chat.meta["titled"] = True
            self._safe("name the conversation", self.store.rename, cid, chat.title)

    def tab_closed(self, chat: "ChatView") -> None:
        self.save_open_tabs(exclude=chat)

    def save_open_tabs(self, exclude: "ChatView | None" = None) -> None:
        if self.app is None:
            return
        ids = []
        for tab_id in self.app._order:
            chat = self.app.chats.get(tab_id)
            if chat is not None and chat is not exclude and chat.meta.get("conversation_id") is not None:
                ids.append(chat.meta["conversation_id"])
        shown = self.app.active_chat
        active = shown.meta.get("conversation_id") if shown is not None and shown is not exclude else None
        self._safe("remember the open tabs", self.store.set_open_tabs, ids, active)

    def close_all(self) -> None:
        """The app is closing: remember the open tabs (the store itself belongs to the caller)."""
        self.save_open_tabs()

    # -- reading -----------------------------------------------------------------------------
    async def restore_tabs(self, app: "ClaudeTUI") -> bool:
        self.app = app
        notice = getattr(self.store, "notice", None)
        if notice:
            app.notify(str(notice), title="history", severity="warning", timeout=8)
        ids = self._safe("read the open tabs", self.store.open_tabs) or []
        active = self._safe("read the tab left", self.store.active_tab)  # before reopening saves the tabs again
        restored = False
        for cid in ids:
            chat = await self.open_conversation(app, cid, focus=False)
            restored |= chat is not None
        if restored and app._order:
            left = next((t for t in app._order if app.chats[t].meta.get("conversation_id") == active), app._order[0])
            app.show_tab(left)  # the tab that had the focus at quit
        return restored

    async def open_conversation(self, app: "ClaudeTUI", cid: int, *, focus: bool = True) -> "ChatView | None":
        for chat in app.chats.values():
            if chat.meta.get("conversation_id") == cid:
                app.show_tab(chat.tab_id)
                return chat
        conv = self._safe("read the conversation", self.store.get_conversation, cid)
        if conv is None:
            return None
        chat = await app.new_tab(conv.title or f"chat {cid}", focus=focus)
        chat.meta["conversation_id"] = cid
        chat.meta["titled"] = True
        pending_prompt: tuple[str, int] | None = None
        for message in conv.messages:
            if message.role == "user":
                if pending_prompt is not None:  # a prompt with no reply stored
                    chat.add_restored_turn(pending_prompt[0], "", state="cancelled", footer="no reply stored",
                                           meta={"user_message_id": pending_prompt[1]})
                pending_prompt = (message.text, message.id)
                continue
            if pending_prompt is None:
                continue
            state = _STATES.get(message.status, "done")
            parts = [conv.model]
            if message.usage:
                parts.append(f"{message.usage.get('output_tokens', 0)} tokens out")
            if message.cost is not None:
                parts.append(f"${message.cost:.4f} (estimate)")
            parts.append("from history" if state == "done" else f"{message.status} (from history)")
            chat.add_restored_turn(pending_prompt[0], message.text, state=state, footer=" · ".join(parts),
                                   meta={"user_message_id": pending_prompt[1], "assistant_message_id": message.id},
                                   thinking=message.thinking)
            pending_prompt = None
        if pending_prompt is not None:
            chat.add_restored_turn(pending_prompt[0], "", state="cancelled", footer="no reply stored",
                                   meta={"user_message_id": pending_prompt[1]})
        self.save_open_tabs()
        return chat

    def list(self, search: str | None = None) -> list[Any]:
        return self._safe("list conversations", self.store.list_conversations, search or None, 200) or []

    def rename(self, cid: int, title: str) -> None:
        if self._safe("rename", self.store.rename, cid, title) and self.app is not None:
            for chat in self.app.chats.values():
                if chat.meta.get("conversation_id") == cid:
                    chat.title = title
                    chat.auto_title = False
                    self.app._relabel(chat)

    def delete(self, cid: int) -> None:
        self._safe("delete", self.store.delete, cid)
        if self.app is not None:
            for chat in self.app.chats.values():
                if chat.meta.get("conversation_id") == cid:
                    chat.meta.pop("conversation_id", None)  # new turns start a new conversation
            self.save_open_tabs()

    def open_screen(self, app: "ClaudeTUI") -> None:
        from .screens.history import HistoryScreen

        self.app = app
        app.push_screen(HistoryScreen(self))
