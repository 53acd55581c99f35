"""ChatHeader: the top line of a chat — what its requests are sent with, the system prompt shown as such.

``claude-sonnet-4-6 · max 1,024 · thinking 2k · system: "You are a terse…"`` on the left, clipped with
an ellipsis (never wrapped: one line at 80 columns), and the key that edits it (F6) on the right, never
clipped. A click opens the chat's settings too.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from ..chat_settings import ChatSettings


class ChatHeader(Horizontal):
    """One line: the chat's settings, and "F6 settings"."""

    class Clicked(Message):
        """The user clicked the header: open the chat's settings."""

    def __init__(self, settings: ChatSettings) -> None:
        super().__init__(classes="chat-header")
        self.settings_line = Static(settings.header(), markup=False, classes="chat-header-settings")
        self.tooltip = "This chat's model, max tokens, thinking and system prompt: F6 or a click edits them"

    def compose(self) -> ComposeResult:
        yield self.settings_line
        yield Static("F6 settings", markup=False, classes="chat-header-key")

    def show(self, settings: ChatSettings) -> None:
        self.settings_line.update(settings.header())

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked())
