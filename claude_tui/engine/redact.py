"""Keep the API key out of every text the engine hands on: error messages reach the results file,
the console, the UI, the history, the log and exports, and a server may echo the request's headers."""

from __future__ import annotations

import os
import re
from typing import Iterable

REDACTED = "[REDACTED]"
KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_\-]{3,}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with API-key-shaped strings, ``secrets`` and ``$ANTHROPIC_API_KEY`` replaced."""
    if not text:
        return text
    for secret in (*secrets, os.environ.get("ANTHROPIC_API_KEY")):
        if secret and len(secret) >= 8 and secret in text:
            text = text.replace(secret, REDACTED)
    return KEY_PATTERN.sub(REDACTED, text) if "sk-ant-" in text else text
