"""The app's own commands in the command palette (Ctrl+P)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import ClaudeTUI


def app_commands(app: "ClaudeTUI") -> Iterator[tuple[str, Callable[[], object], str]]:
    """(name, callback, help) for every palette command of the app."""
    yield "New tab", app.action_new_tab, "Open a new conversation tab (Ctrl+T)"
    yield "Close tab", app.action_close_tab, "Close the focused tab (Ctrl+W)"
    yield "Model…", app.action_pick_model, f"Pick the model for new requests (now {app.model})"
    yield "System prompt…", app.action_edit_system, "Set or clear the system prompt"
    yield "Max tokens…", app.action_edit_max_tokens, f"Max output tokens per reply (now {app.max_tokens})"
    yield "Concurrency…", app.action_edit_concurrency, f"Requests in flight at once (now {app.concurrency_limit})"
    yield "Concurrency +1", partial(app.action_concurrency, 1), "Raise the pool's limit by one (F8 / Ctrl+Up)"
    yield "Concurrency −1", partial(app.action_concurrency, -1), "Lower the pool's limit by one (F7 / Ctrl+Down)"
    yield (
        "Extended thinking on/off",
        app.action_toggle_thinking,
        f"Ask for thinking blocks, shown collapsed (now {'on' if app.thinking_budget else 'off'})",
    )
    yield "Theme…", app.action_pick_theme, f"Pick a theme (now {app.theme})"
    yield "Toggle stats panel", app.action_toggle_stats, "Show or hide the live stats panel (F2)"
    yield "Copy last reply", app.action_copy_reply, "Copy the focused tab's last reply to the clipboard (Ctrl+O)"
    yield "Copy last code block", app.action_copy_code, "Copy the last fenced code block of the focused tab (Ctrl+G)"
    yield "Export conversation to Markdown…", app.action_export, "Write the focused tab's conversation to a .md file"
    yield "Retry last request", app.action_retry, "Run the focused tab's failed or cancelled request again (Ctrl+R)"
    yield "Cancel request", app.action_cancel_request, "Cancel the focused tab's running or queued request (Esc)"
    if app.history is not None:
        yield "History…", app.action_history, "Browse, search and reopen past conversations (F3)"


class ClaudeCommands(Provider):
    """Commands of the claude-tui app."""

    async def discover(self) -> Hits:
        app = self.app
        for name, callback, help_text in app_commands(app):  # type: ignore[arg-type]
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        for name, callback, help_text in app_commands(app):  # type: ignore[arg-type]
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
