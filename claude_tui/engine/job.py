"""A Job is one request to the Messages API: what to send, and an id to follow it by."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MODEL = "claude-sonnet-4-6"
DEFAULT_MAX_TOKENS = 1024
#: The API's floor for ``thinking.budget_tokens`` (which must also stay below ``max_tokens``).
MIN_THINKING_BUDGET = 1024

_counter = itertools.count(1)


def new_job_id() -> str:
    """Short, unique, sortable-enough ids: readable in logs and JSONL."""
    return f"job-{next(_counter):05d}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class Correlation:
    """Where a job belongs, for the consumers of its events; never sent to the API.

    It rides on the ``Job`` that the pool's ``Submitted`` event carries, so every consumer learns
    it from the one event stream instead of being told beside it. Hashable, all fields optional:

    - ``group``: gathers jobs for per-group figures and routing (the TUI's tab id; ``Metrics.for_tag``).
    - ``item``: the prompt's id in its file (``run``), for the results file and batch ``custom_id``.
    - ``conversation_id`` / ``message_id``: the stored conversation and the assistant message the
      reply streams into (the history recorder saves it there); None for unrecorded jobs.
    """

    group: str | None = None
    item: str | None = None
    conversation_id: int | None = None
    message_id: int | None = None


NO_CORRELATION = Correlation()


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One request: conversation messages + model + max_tokens + optional system prompt.

    ``messages`` is in the API's shape: ``[{"role": "user", "content": "..."}, ...]``.
    ``thinking_budget`` asks for extended thinking when set. ``cache_system`` sends the system prompt
    as a block with a prompt-cache breakpoint (``cache_control``), so requests sharing it read it
    from the cache; breakpoints in messages ride in ``messages`` themselves. ``correlation`` says where the job
    belongs (a tab, a prompt file's line, a stored message) and is never sent to the API.
    """

    messages: tuple[dict[str, Any], ...]
    model: str = DEFAULT_MODEL
    max_tokens: int = DEFAULT_MAX_TOKENS
    system: str | None = None
    thinking_budget: int | None = None
    cache_system: bool = False
    id: str = field(default_factory=new_job_id)
    correlation: Correlation = NO_CORRELATION

    @classmethod
    def from_prompt(cls, prompt: str, **kwargs: Any) -> "Job":
        return cls(messages=({"role": "user", "content": prompt},), **kwargs)

    @property
    def prompt(self) -> str:
        """The last user message's text (what a log line shows with ``log_prompts``)."""
        if not self.messages:
            return ""
        content = self.messages[-1].get("content", "")
        return content if isinstance(content, str) else str(content)

    def request_params(self) -> dict[str, Any]:
        """Keyword arguments for ``client.messages.stream`` / ``create``."""
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": list(self.messages),
        }
        if self.system:
            params["system"] = (
                [{"type": "text", "text": self.system, "cache_control": {"type": "ephemeral"}}] if self.cache_system else self.system
            )
        if self.thinking_budget:
            params["thinking"] = {"type": "enabled", "budget_tokens": self.thinking_budget}
        return params
