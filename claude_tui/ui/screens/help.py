"""KeyHelpScreen (F1, or ``?`` outside the prompt): the app's own keys, by area.

The keys are read from the app's bindings (its ``BINDINGS``, Textual's own such as Ctrl+Q and the
palette), so a key added or changed there shows here by itself; only the words saying what each
action does and its area are kept here, by action name. A binding with no entry still shows, under
"Other", with its footer description. The prompt's keys (Enter, Ctrl+J, Up/Down) are handled by the
prompt box itself, not bound, so they are listed as text.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

#: Areas in the order shown.
AREAS = ("Prompt", "Tabs", "Requests", "View", "Copy", "App", "Other")

#: action (with arguments, else its name) → (area, what it does).
WORDS: dict[str, tuple[str, str]] = {
    "new_tab": ("Tabs", "new tab"),
    "close_tab": ("Tabs", "close the tab (closing the last opens a fresh one)"),
    "next_tab": ("Tabs", "next tab"),
    "prev_tab": ("Tabs", "previous tab"),
    "goto_tab": ("Tabs", "jump to tab N (the number on its label)"),
    "goto_chat": ("Tabs", "go to a chat by its title (fuzzy)"),
    "chat_settings": ("Tabs", "this chat's settings: model, system prompt, max tokens, thinking (shown in its header)"),
    "cancel_request": ("Requests", "cancel the tab's running or queued request (what streamed stays)"),
    "retry": ("Requests", "retry the tab's last failed or cancelled request"),
    "regenerate": ("Requests", "regenerate the last reply (the old one stays in history as an earlier branch)"),
    "edit_prompt": ("Requests", "edit a prompt of this tab and resend from there (the old branch stays in history)"),
    "clear_chat": ("Requests", "clear the chat: a fresh context (asks first; history keeps the old turns)"),
    "concurrency(-1)": ("Requests", "lower the concurrency limit (requests in flight at once)"),
    "concurrency(1)": ("Requests", "raise the concurrency limit"),
    "help": ("View", "this help"),
    "toggle_stats": ("View", "stats panel on / off (over the chat on a narrow terminal)"),
    "history": ("View", "history: type to search, Enter reopens, Ctrl+E renames, Ctrl+D deletes"),
    "copy_reply": ("Copy", "copy the last reply"),
    "copy_code": ("Copy", "copy the last code block"),
    "command_palette": ("App", "command palette: model, system prompt, theme, export, … by name"),
    "quit": ("App", "quit (asks first while replies run; open tabs come back next time)"),
}

#: Actions bound once per argument (Alt+1 … Alt+9) shown as one line.
COLLAPSE = frozenset({"goto_tab"})

PROMPT_KEYS = (
    ("Enter", "send (while the tab's reply runs, the prompt queues behind it)"),
    ("Ctrl+J", "new line (also Shift+Enter or Alt+Enter where the terminal reports them)"),
    ("Up / Down", "earlier / later prompts, on the first / last line"),
    ("Shift+Tab, Enter", "a failed reply's error line (Shift+Tab from the prompt), Enter: its details (a click too)"),
)

_NAMES = {
    "pagedown": "PgDn", "pageup": "PgUp", "escape": "Esc", "question_mark": "?", "up": "Up", "down": "Down",
    "left": "Left", "right": "Right", "enter": "Enter", "tab": "Tab", "space": "Space", "backspace": "Backspace",
}


def key_label(key: str) -> str:
    """``ctrl+pagedown`` → ``Ctrl+PgDn``, ``f2`` → ``F2``, ``question_mark`` → ``?``."""
    *mods, name = key.split("+")
    name = _NAMES.get(name, name.upper() if len(name) <= 3 else name.title())
    return "+".join([m.title() for m in mods] + [name])


def _name(action: str) -> str:
    return action.split("(", 1)[0].removeprefix("app.")


def key_rows(bindings: Iterable[Binding]) -> dict[str, list[tuple[str, str]]]:
    """Area → [(keys, what it does)] from bindings: one row per action, its keys joined with " / "."""
    keys: dict[str, list[str]] = defaultdict(list)
    first: dict[str, Binding] = {}
    for binding in bindings:
        if binding.system:
            continue
        action = binding.action.removeprefix("app.")
        group = _name(action) if _name(action) in COLLAPSE else action
        first.setdefault(group, binding)
        for key in binding.key.split(","):
            label = key_label(key.strip())
            if group in COLLAPSE:
                label = label[:-1] + "1…9" if label[-1:].isdigit() else label
            if label not in keys[group]:
                keys[group].append(label)
    rows: dict[str, list[tuple[str, str]]] = defaultdict(list)
    rows["Prompt"] = list(PROMPT_KEYS)
    for group, labels in keys.items():
        area, words = WORDS.get(group) or WORDS.get(_name(group)) or ("Other", first[group].description or group)
        rows[area].append((" / ".join(labels), words))
    return rows


def app_bindings(app: Any) -> list[Binding]:
    """Every binding of the app itself (its classes' ``BINDINGS`` and Textual's own)."""
    return [binding for _key, binding in app._bindings]


class KeyHelpScreen(ModalScreen[None]):
    """The keys, by area; Esc (or F1, ``?``, q) closes it."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("f1", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, rows: dict[str, list[tuple[str, str]]]) -> None:
        super().__init__(classes="dialog-screen help-screen")
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help-dialog"):
            yield Label("Keys — Esc closes · Ctrl+P finds any command by name", classes="dialog-title")
            yield Static(self._table(), classes="help-keys")

    def _table(self) -> Table:
        """One grid for all areas, so the key column lines up from the first area to the last."""
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column()
        first = True
        for area in AREAS:
            entries = self.rows.get(area)
            if not entries:
                continue
            if not first:
                table.add_row("", "")
            first = False
            table.add_row(Text(area, style="bold underline"), "")
            for keys, words in entries:
                table.add_row(Text(keys, style="bold"), words)
        return table

    def action_close(self) -> None:
        self.dismiss(None)
