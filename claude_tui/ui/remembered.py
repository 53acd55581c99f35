"""The app's own settings changed in the app — theme, concurrency limit, stats panel shown — kept
across launches, and which value wins at the next launch.

They are kept in the history database's ``app_state`` table (beside the open tabs and the tab left),
not in the config file: the config is the user's own hand-written TOML (comments, order, layout), which
the app never rewrites; and the history database is already opened, locked and migrated for every app
session. With history off (``CLAUDE_TUI_NO_HISTORY`` or an unusable database) the app writes nothing,
so nothing is remembered either.

Which value a launch uses, per setting:

1. given on the command line or in the environment for this launch (``--theme``, ``CLAUDE_TUI_THEME``):
   that value — the user asked for it just now;
2. else the value last chosen in the app, if the config file (or default) still says what it said when
   that choice was made — the choice in the app is the newer intent;
3. else the config file's value (or the default): the user edited the file since, which is newer still;
   the remembered choice is forgotten.

So each value is stored with the launch value it replaced (``{"value": …, "over": …}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: The app's settings that are remembered (the ``app_state`` key is ``ui.<name>``).
NAMES = ("theme", "concurrency", "show_stats")


@dataclass(frozen=True, slots=True)
class Choice:
    """A value chosen in the app, and the launch value (config file or default) it replaced."""

    value: Any
    over: Any

    def encode(self) -> str:
        return json.dumps({"value": self.value, "over": self.over})

    @staticmethod
    def decode(text: str | None) -> "Choice | None":
        """None for nothing stored or anything unreadable (a hand-edited or older row is ignored)."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or "value" not in data:
            return None
        return Choice(data["value"], data.get("over"))


def key(name: str) -> str:
    return f"ui.{name}"


def resolve(launch: Any, remembered: Choice | None, *, pinned: bool) -> tuple[Any, bool]:
    """(the value to start with, whether the remembered choice is stale and should be forgotten)."""
    if pinned or remembered is None:
        return launch, False
    if remembered.over == launch:
        return remembered.value, False
    return launch, True
