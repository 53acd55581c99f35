"""PromptBox: the multi-line prompt editor of a tab.

Enter sends; Ctrl+J (and Shift+Enter where the terminal reports it) inserts a newline; Up on the first
line / Down on the last line walk the app-wide prompt history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import events
from textual.message import Message
from textual.widgets import TextArea


@dataclass
class PromptHistory:
    """Prompts sent in this app session, oldest first (shared by every tab's box)."""

    entries: list[str] = field(default_factory=list)
    limit: int = 500

    def add(self, prompt: str) -> None:
        if self.entries and self.entries[-1] == prompt:
            return
        self.entries.append(prompt)
        del self.entries[: -self.limit]


def _prompt_bindings() -> list:
    """TextArea's bindings minus the keys the app uses (Ctrl+W closes a tab; F7 lowers the limit)."""
    from textual.binding import Binding

    kept: list[Binding | tuple[str, str] | tuple[str, str, str]] = []
    for binding in TextArea.BINDINGS:
        if not isinstance(binding, Binding):
            kept.append(binding)
            continue
        keys = [k for k in binding.key.split(",") if k not in ("ctrl+w", "f7")]
        if keys:
            kept.append(Binding(",".join(keys), binding.action, binding.description, show=binding.show,
                                key_display=binding.key_display, priority=binding.priority, tooltip=binding.tooltip))
    return kept


class PromptBox(TextArea, inherit_bindings=False):
    """A ``TextArea`` that sends on Enter."""

    BINDINGS = _prompt_bindings()

    NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})

    class Submitted(Message):
        def __init__(self, box: "PromptBox", text: str) -> None:
            super().__init__()
            self.box = box
            self.text = text

        @property
        def control(self) -> "PromptBox":
            return self.box

    def __init__(self, history: PromptHistory | None = None, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            "",
            id=id,
            classes=classes,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            compact=True,
            highlight_cursor_line=False,
            placeholder="Message Claude — Enter to send · Ctrl+J new line · ↑ earlier prompts",
        )
        self.prompt_history = history if history is not None else PromptHistory()
        self._history_index: int | None = None  # None = editing the draft
        self._draft = ""

    # -- keys --------------------------------------------------------------------------------
    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.submit()
            return
        if event.key in self.NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)

    def submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        self.prompt_history.add(text.strip("\n"))
        self._history_index = None
        self._draft = ""
        self.clear()
        self.post_message(self.Submitted(self, text.strip("\n")))

    # -- history -----------------------------------------------------------------------------
    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.cursor_location[0] == 0 and self.prompt_history.entries:
            self.recall(-1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if not select and self.cursor_location[0] == self.document.line_count - 1 and self._history_index is not None:
            self.recall(+1)
            return
        super().action_cursor_down(select)

    def recall(self, step: int) -> None:
        entries = self.prompt_history.entries
        if self._history_index is None:
            if step > 0:
                return
            self._draft = self.text
            index = len(entries) - 1
        else:
            index = self._history_index + step
        if index < 0:
            return
        if index >= len(entries):
            self._history_index = None
            self.load_text(self._draft)
            self.move_cursor(self.document.end)
            return
        self._history_index = index
        self.load_text(entries[index])
        # Up lands on the first line so another Up keeps walking back; Down lands at the end.
        self.move_cursor((0, len(self.document.get_line(0))) if step < 0 else self.document.end)
