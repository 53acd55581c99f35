"""The CLI's one-line error, in a module of its own so the subcommands can raise it without
importing ``cli`` (which imports them)."""

from __future__ import annotations

EXIT_USAGE = 2


class CliError(Exception):
    """A one-line, user-facing error; the CLI prints it and exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code
