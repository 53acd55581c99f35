"""The one exception every part of the config package raises for unusable input."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A setting could not be used. ``str(err)`` is a single line, ready to print."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None, key: str | None = None) -> None:
        self.message = " ".join(str(message).split())  # one line, always
        self.path = path
        self.line = line
        self.key = key
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
