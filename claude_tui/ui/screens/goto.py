"""GoToChatScreen (F4): every open chat, filtered by a fuzzy match on its title; returns the tab id.

For many tabs, where the tab row scrolls: type a few letters of a title (``rtry`` finds "Retry loop
with backoff"), Enter goes there. The screen hands its choice back through ``dismiss``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


class GoToChatScreen(ModalScreen[str | None]):
    """Pick a chat: the best fuzzy matches first, in tab order when nothing is typed."""

    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
    ]

    def __init__(self, chats: list[tuple[str, str, str]], current: str | None = None) -> None:
        """``chats``: (tab id, number, title) in tab order."""
        super().__init__(classes="dialog-screen goto-screen")
        self.chats = chats
        self.current = current
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog goto-dialog"):
            yield Label("Go to chat", classes="dialog-title")
            yield Input(placeholder="type part of a title…", id="goto-search")
            yield OptionList(id="goto-list")

    def on_mount(self) -> None:
        self.fill("")
        self.query_one(Input).focus()

    def fill(self, query: str) -> None:
        matcher = Matcher(query) if query.strip() else None
        rows: list[tuple[float, int, Option]] = []
        for position, (tab_id, number, title) in enumerate(self.chats):
            score = matcher.match(title) if matcher else 1.0
            if score <= 0:
                continue
            shown_title = matcher.highlight(title) if matcher else Content(title)
            prompt = Content(f"{number:>3}  ") + shown_title
            rows.append((-score, position, Option(prompt, id=tab_id)))
        rows.sort(key=lambda row: (row[0], row[1]))
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([option for _, _, option in rows])
        self.shown = [option.id for _, _, option in rows if option.id is not None]
        if self.shown:
            options.highlighted = self.shown.index(self.current) if (not matcher and self.current in self.shown) else 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option_index)

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = ((options.highlighted or 0) + delta) % options.option_count

    def _choose(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self.shown):
            self.dismiss(self.shown[index])

    def action_cancel(self) -> None:
        self.dismiss(None)
