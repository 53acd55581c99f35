"""A chat's own request settings: model, system prompt, max tokens and extended thinking.

Each tab holds one frozen :class:`ChatSettings` (``TabModel.settings``); a new chat takes the app's
defaults (the config's ``model``, ``max_tokens``, ``system``), the settings screen replaces it whole,
and the history store keeps it with the conversation so a restored tab sends as it did. No Textual
here: the header line and the checks are tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from claude_tui.engine.job import DEFAULT_MAX_TOKENS, DEFAULT_MODEL, MIN_THINKING_BUDGET
from claude_tui.engine.models import find_model

#: ``max_tokens`` for a model the table does not know (the config's own upper bound).
MAX_TOKENS_CEILING = 1_000_000


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What every request of one chat is sent with. ``thinking_budget`` None: extended thinking off."""

    model: str = DEFAULT_MODEL
    max_tokens: int = DEFAULT_MAX_TOKENS
    system: str | None = None
    thinking_budget: int | None = None

    @property
    def thinking(self) -> bool:
        return bool(self.thinking_budget)

    def header(self) -> str:
        """One line for the chat's header, most useful first (the widget clips it, never wraps):
        ``claude-sonnet-4-6 · max 1,024 · thinking 2k · system: "You are a terse…"``."""
        parts = [self.model, f"max {self.max_tokens:,}"]
        if self.thinking_budget:
            parts.append(f"thinking {_short(self.thinking_budget)}")
        if self.system:
            first = " ".join(self.system.split())  # one line: newlines and runs of spaces read as one space
            parts.append(f'system: "{first[:60]}{"…" if len(first) > 60 else ""}"')
        else:
            parts.append("no system prompt")
        return " · ".join(parts)


def _short(tokens: int) -> str:
    """2048 → ``2k``, 1500 → ``1.5k``, 800 → ``800``."""
    if tokens < 1000:
        return str(tokens)
    k = tokens / 1024 if tokens % 1024 == 0 else tokens / 1000
    return f"{k:g}k" if k == int(k) else f"{k:.1f}k"


def max_output(model: str) -> int:
    """The most ``max_tokens`` the model takes (the model table's figure; unknown models: the ceiling)."""
    spec = find_model(model)
    return spec.max_output if spec is not None else MAX_TOKENS_CEILING


def check_max_tokens(text: str, model: str) -> str | None:
    """None if ``text`` is a valid ``max_tokens`` for ``model``, else why not (one line)."""
    value = _digits(text)
    top = max_output(model)
    if not value.isdigit() or not 1 <= int(value) <= top:
        return f"max tokens: a whole number from 1 to {top:,} ({model})"
    return None


def check_thinking_budget(text: str, max_tokens: int) -> str | None:
    """None if ``text`` is a valid thinking budget beside ``max_tokens``: the API wants
    ``1024 ≤ budget_tokens < max_tokens``."""
    value = _digits(text)
    if not value.isdigit() or int(value) < MIN_THINKING_BUDGET:
        return f"thinking budget: a whole number, at least {MIN_THINKING_BUDGET:,}"
    if int(value) >= max_tokens:
        return f"thinking budget must be below max tokens ({max_tokens:,}): raise max tokens or lower the budget"
    return None


def _digits(text: str) -> str:
    """A token count as typed, separators dropped (``4,096`` and ``4_096`` read as 4096)."""
    return text.strip().replace(",", "").replace("_", "")


def parse_tokens(text: str) -> int:
    """A checked token count as typed."""
    return int(_digits(text))


def with_thinking(settings: ChatSettings, on: bool) -> ChatSettings:
    """Thinking on (its budget, else the smallest; max tokens raised above it as the API wants), or off."""
    if not on:
        return replace(settings, thinking_budget=None)
    budget = max(settings.thinking_budget or MIN_THINKING_BUDGET, MIN_THINKING_BUDGET)
    max_tokens = settings.max_tokens if settings.max_tokens > budget else budget + MIN_THINKING_BUDGET
    return replace(settings, thinking_budget=budget, max_tokens=max_tokens)
