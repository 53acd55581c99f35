"""Read ESC + digit as Alt+digit, as xterm, tmux and SSH terminals mean it.

Textual 8 maps ``ESC 1`` … ``ESC 0`` to the characters macOS types for Option+1 … Option+0
(``¡ ™ £ ¢ ∞ § ¶ • ª º``), so Alt+1…9 typed those into the prompt in tmux and xterm instead of
switching tabs. Without those ten entries its parser reads ESC + digit as ``alt+<digit>``, as it
already does for ESC + letter. A Mac terminal that sends ``¡`` itself still types ``¡``.
"""

from __future__ import annotations

from textual import _ansi_sequences

ESC_DIGITS = tuple("\x1b" + digit for digit in "0123456789")


def install() -> None:
    """Drop the ESC + digit → character entries from Textual's key table (idempotent)."""
    table = _ansi_sequences.ANSI_SEQUENCES_KEYS
    for sequence in ESC_DIGITS:
        if isinstance(table.get(sequence), str):  # a character, not a key: the macOS mapping
            table.pop(sequence)  # type: ignore[attr-defined]
