"""HistoryScreen: past conversations, newest first; search, reopen in a tab, rename, delete (confirmed).

It returns the user's choice the Textual way: ``dismiss(conversation_id)`` to reopen one (``None``:
nothing chosen), and posts ``Renamed`` / ``Deleted`` for the app to bring its open tabs along.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from .dialogs import ConfirmDialog, InputDialog

if TYPE_CHECKING:
    from ..chat_history import ChatHistory


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


class HistoryScreen(Screen[int | None]):
    class Renamed(Message):
        def __init__(self, conversation_id: int, title: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.title = title

    class Deleted(Message):
        def __init__(self, conversation_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("enter", "open", "Open in a tab", show=True),
        Binding("ctrl+e", "rename", "Rename", priority=True),
        Binding("ctrl+d", "delete", "Delete", priority=True),
        Binding("down", "focus_list", show=False),
    ]

    def __init__(self, history: "ChatHistory") -> None:
        super().__init__(classes="history-screen")
        self.history = history
        self.conversations: list[Any] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="history"):
            yield Label("History — newest first", classes="history-title")
            yield Input(placeholder="search titles and messages…", id="history-search")
            yield OptionList(id="history-list")
            yield Label("", id="history-empty", classes="history-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#history-search", Input).focus()

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#history-list", OptionList)

    def reload(self) -> None:
        """Fill the list: every conversation, or with words typed, the full-text matches (FTS5)
        with the matched words highlighted in the title and in a snippet of the message."""
        search = self.query_one("#history-search", Input).value.strip()
        self.conversations = self.history.search(search) if search else self.history.list()
        options = []
        conv: Any
        for conv in self.conversations:
            line = Text()
            marked = getattr(conv, "marked_title", None)
            if marked:
                for text, hit in marked:
                    line.append(text, style="bold reverse" if hit else "bold")
            else:
                line.append(" ".join(conv.title.split()) or "(untitled)", style="bold")
            line.append(f"   {conv.message_count} messages · {conv.model} · {_when(conv.updated_at)}", style="dim")
            snippet = getattr(conv, "snippet", None)
            if snippet:
                where = " (in an earlier branch)" if getattr(conv, "earlier_branch", False) else ""
                line.append(f"\n  {getattr(conv, 'role', '')}{where}: ", style="dim")
                for text, hit in snippet:
                    line.append(text, style="bold reverse" if hit else "italic dim")
            elif getattr(conv, "preview", None):
                line.append("\n  " + conv.preview[:100].replace("\n", " "), style="italic dim")
            options.append(Option(line, id=str(conv.id)))
        option_list = self.option_list
        option_list.clear_options()
        option_list.add_options(options)
        if options:
            option_list.highlighted = 0
        empty = self.query_one("#history-empty", Label)
        empty.update("" if options else ("no conversation matches" if search else "no conversations yet"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_open()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def _selected(self) -> int | None:
        option_list = self.option_list
        index = option_list.highlighted
        if index is None or not 0 <= index < option_list.option_count:
            return None
        option_id = option_list.get_option_at_index(index).id
        return int(option_id) if option_id is not None else None

    def action_focus_list(self) -> None:
        self.option_list.focus()

    def action_open(self) -> None:
        cid = self._selected()
        if cid is None:
            return
        self.dismiss(cid)

    def action_close(self) -> None:
        self.dismiss(None)

    def rename(self, cid: int, title: str) -> None:
        if self.history.rename(cid, title):
            self.post_message(self.Renamed(cid, title))
        self.reload()

    def delete(self, cid: int) -> None:
        if self.history.delete(cid):
            self.post_message(self.Deleted(cid))
        self.reload()

    def action_rename(self) -> None:
        cid = self._selected()
        if cid is None:
            return
        current = next((c.title for c in self.conversations if c.id == cid), "")

        def done(value: str | None) -> None:
            if value and value.strip():
                self.rename(cid, value.strip())

        self.app.push_screen(InputDialog("Rename conversation", current), done)

    def action_delete(self) -> None:
        cid = self._selected()
        if cid is None:
            return
        title = next((c.title for c in self.conversations if c.id == cid), "")

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.delete(cid)

        self.app.push_screen(ConfirmDialog(f"Delete “{title or cid}” and its messages?"), done)
