"""The app's own commands in the command palette (Ctrl+P).

The provider asks its app for the commands (``palette_commands()``) instead of importing the app:
an app that has them is all it needs, so this module and ``app.py`` do not import each other.
"""

from __future__ import annotations

from typing import Callable, Iterable, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (name, callback, help) of one palette command.
PaletteCommand = tuple[str, Callable[[], object], str]


@runtime_checkable
class PaletteHost(Protocol):
    def palette_commands(self) -> Iterable[PaletteCommand]: ...


def app_commands(app: object) -> list[PaletteCommand]:
    """The palette commands ``app`` offers (none if it offers none)."""
    return list(app.palette_commands()) if isinstance(app, PaletteHost) else []


class ClaudeCommands(Provider):
    """Commands of the claude-tui app."""

    async def discover(self) -> Hits:
        for name, callback, help_text in app_commands(self.app):
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in app_commands(self.app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
