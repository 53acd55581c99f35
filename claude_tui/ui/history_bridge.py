"""All access to the history store from the UI goes through here, so the app works with ``store=None``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_tui.engine.events import JobEvent
    from claude_tui.engine.job import Job

    from .app import ClaudeTUI
    from .widgets.chat_view import ChatView, Turn


class HistoryBridge:
    def __init__(self, store: Any) -> None:
        self.store = store

    def observe(self, event: "JobEvent") -> None:
        pass

    def user_message(self, chat: "ChatView", turn: "Turn", job: "Job") -> None:
        pass

    def turn_finished(self, chat: "ChatView", turn: "Turn", event: "JobEvent | None") -> None:
        pass

    def tab_closed(self, chat: "ChatView") -> None:
        pass

    def close_all(self) -> None:
        pass

    async def restore_tabs(self, app: "ClaudeTUI") -> bool:
        return False

    def open_screen(self, app: "ClaudeTUI") -> None:
        app.notify("history is not available yet", timeout=3)
