"""ChatSettingsScreen (F6, or the palette's "Chat settings…"): one chat's model, system prompt, max
tokens and extended thinking, edited in one place.

It returns the new :class:`ChatSettings` with ``dismiss`` (Ctrl+S, Enter in a number field, or
"Save"); Esc returns None and changes nothing. What the API would refuse is caught here, with a
one-line reason and the screen left open: max tokens outside 1 … the model's maximum output, a
thinking budget under 1,024 or not below max tokens. Compact fields, so it fits an 80×24 terminal.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch, TextArea

from ..chat_settings import (
    MIN_THINKING_BUDGET,
    ChatSettings,
    check_max_tokens,
    check_thinking_budget,
    parse_tokens,
)

#: Which field ``focus=`` names (the palette's "System prompt…" opens the screen on its field).
FIELDS = {"model": "#cs-model", "system": "#cs-system", "max_tokens": "#cs-max-tokens", "thinking": "#cs-thinking"}


class ChatSettingsScreen(ModalScreen[ChatSettings | None]):
    """Edit one chat's settings; ``dismiss(ChatSettings)`` on save, ``dismiss(None)`` on Esc."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, settings: ChatSettings, models: list[str], *, title: str = "", focus: str = "model") -> None:
        super().__init__(classes="dialog-screen chat-settings-screen")
        self.settings = settings
        self.models = models if settings.model in models else [settings.model, *models]
        self.chat_title = title
        self.first_focus = FIELDS.get(focus, FIELDS["model"])

    def compose(self) -> ComposeResult:
        s = self.settings
        with Vertical(classes="dialog chat-settings-dialog"):
            title = f"Chat settings — {self.chat_title}" if self.chat_title else "Chat settings"
            yield Label(title, classes="dialog-title", markup=False)
            with Horizontal(classes="cs-row"):
                yield Label("Model", classes="cs-label")
                yield Select([(m, m) for m in self.models], value=s.model, allow_blank=False, compact=True,
                             id="cs-model", classes="cs-field")
            with Horizontal(classes="cs-row"):
                yield Label("System prompt", classes="cs-label")
                yield TextArea(s.system or "", soft_wrap=True, compact=True, id="cs-system", classes="cs-field",
                               placeholder="none: empty")
            with Horizontal(classes="cs-row"):
                yield Label("Max tokens", classes="cs-label")
                yield Input(str(s.max_tokens), restrict=r"[0-9,_]*", compact=True, id="cs-max-tokens", classes="cs-field")
            with Horizontal(classes="cs-row"):
                yield Label("Thinking", classes="cs-label")
                yield Switch(s.thinking, id="cs-thinking")
                yield Label("budget", classes="cs-label-inline")
                yield Input(str(s.thinking_budget or MIN_THINKING_BUDGET), restrict=r"[0-9,_]*", compact=True,
                            id="cs-budget", disabled=not s.thinking)
            yield Static("", classes="dialog-error", id="cs-error", markup=False)
            yield Static("For this chat's next requests · Ctrl+S saves · Esc cancels", classes="dialog-help")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cs-cancel", compact=True)
                yield Button("Save", variant="primary", id="cs-save", compact=True)

    def on_mount(self) -> None:
        self.query_one(self.first_focus).focus()

    @on(Switch.Changed, "#cs-thinking")
    def _thinking_switched(self, event: Switch.Changed) -> None:
        self.query_one("#cs-budget", Input).disabled = not event.value

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cs-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cs-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def result(self) -> tuple[ChatSettings | None, str | None, str | None]:
        """(settings, None, None) if the fields are valid, else (None, why, the field to fix)."""
        model = str(self.query_one("#cs-model", Select).value)
        max_text = self.query_one("#cs-max-tokens", Input).value
        error = check_max_tokens(max_text, model)
        if error:
            return None, error, "#cs-max-tokens"
        max_tokens = parse_tokens(max_text)
        budget: int | None = None
        if self.query_one("#cs-thinking", Switch).value:
            budget_text = self.query_one("#cs-budget", Input).value
            error = check_thinking_budget(budget_text, max_tokens)
            if error:
                return None, error, "#cs-budget"
            budget = parse_tokens(budget_text)
        system = self.query_one("#cs-system", TextArea).text.strip() or None
        return ChatSettings(model=model, max_tokens=max_tokens, system=system, thinking_budget=budget), None, None

    def action_save(self) -> None:
        settings, error, field = self.result()
        if settings is None:
            self.query_one("#cs-error", Static).update(error or "")
            if field:
                self.query_one(field).focus()
            return
        self.dismiss(settings)

    def action_cancel(self) -> None:
        self.dismiss(None)
