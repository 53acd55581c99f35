"""A Job is one request to the Messages API: what to send, and an id to follow it by."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MODEL = "claude-sonnet-4-6"
DEFAULT_MAX_TOKENS = 1024

_counter = itertools.count(1)


def new_job_id() -> str:
    """Short, unique, sortable-enough ids: readable in logs and JSONL."""
    return f"job-{next(_counter):05d}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class Job:
    """One request: conversation messages + model + max_tokens + optional system prompt.

    ``messages`` is in the API's shape: ``[{"role": "user", "content": "..."}, ...]``.
    ``thinking_budget`` asks for extended thinking when set. ``tag`` is free for the
    submitter (a tab id, a batch line) and never sent to the API.
    """

    messages: tuple[dict[str, Any], ...]
    model: str = DEFAULT_MODEL
    max_tokens: int = DEFAULT_MAX_TOKENS
    system: str | None = None
    thinking_budget: int | None = None
    id: str = field(default_factory=new_job_id)
    tag: Any = None

    @classmethod
    def from_prompt(cls, prompt: str, **kwargs: Any) -> "Job":
        return cls(messages=({"role": "user", "content": prompt},), **kwargs)

    def request_params(self) -> dict[str, Any]:
        """Keyword arguments for ``client.messages.stream`` / ``create``."""
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": list(self.messages),
        }
        if self.system:
            params["system"] = self.system
        if self.thinking_budget:
            params["thinking"] = {"type": "enabled", "budget_tokens": self.thinking_budget}
        return params
