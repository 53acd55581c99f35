"""EditPromptScreen: change an earlier prompt and resend from there; returns the new text by dismiss.

The box is the chat's own ``PromptBox`` (Enter sends, Ctrl+J new line, Up/Down walk the prompt
history), so editing keys are the ones the user already knows. The app replaces the turns from the
edited one on; the replaced turns stay in the history as an earlier branch.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from ..widgets.prompt_box import PromptBox, PromptHistory


class EditPromptScreen(ModalScreen[str | None]):
    """Edit one prompt; Enter resends it (dismiss with the text), Esc keeps everything as it was."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, *, number: int, later: int, history: PromptHistory | None = None) -> None:
        """``number``: the prompt's place in the chat (1-based); ``later``: turns after it that leave the view."""
        super().__init__(classes="dialog-screen edit-prompt-screen")
        self.prompt = prompt
        self.number = number
        self.later = later
        self.box = PromptBox(history, id="edit-prompt-box")

    def compose(self) -> ComposeResult:
        after = f" and the {self.later} turn{'s' if self.later != 1 else ''} after it" if self.later else ""
        with Vertical(classes="dialog edit-prompt-dialog"):
            yield Label(f"Edit prompt {self.number} and resend — Enter resends · Ctrl+J new line · Esc cancels",
                        classes="dialog-title")
            yield Label(f"Its reply{after} leave the view; the history keeps them as an earlier branch.",
                        classes="dialog-help")
            yield self.box

    def on_mount(self) -> None:
        self.box.load_text(self.prompt)
        self.box.move_cursor(self.box.document.end)
        self.box.focus()

    def on_prompt_box_submitted(self, message: PromptBox.Submitted) -> None:
        message.stop()
        self.dismiss(message.text)

    def action_cancel(self) -> None:
        self.dismiss(None)
