"""The model ids the simulator answers to, in the shape `GET /v1/models` returns."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    display_name: str
    created_at: str  # RFC 3339, as the API sends it
    max_output_tokens: int

    def as_dict(self) -> dict[str, str]:
        return {"type": "model", "id": self.id, "display_name": self.display_name, "created_at": self.created_at}


#: Newest first, as the API lists them.
MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("claude-opus-4-8", "Claude Opus 4.8", "2026-08-05T00:00:00Z", 128_000),
    ModelInfo("claude-opus-4-7", "Claude Opus 4.7", "2026-05-20T00:00:00Z", 128_000),
    ModelInfo("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z", 64_000),
    ModelInfo("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z", 128_000),
    ModelInfo("claude-opus-4-5", "Claude Opus 4.5", "2025-11-24T00:00:00Z", 64_000),
    ModelInfo("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15T00:00:00Z", 64_000),
    ModelInfo("claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z", 64_000),
)

_BY_ID = {m.id: m for m in MODELS}
_DATED = re.compile(r"^(.*)-\d{8}$")


def find_model(model_id: str) -> ModelInfo | None:
    """The model for an id, accepting a dated snapshot id (``claude-sonnet-4-5-20250929``) too."""
    info = _BY_ID.get(model_id)
    if info is None:
        m = _DATED.match(model_id)
        if m:
            info = _BY_ID.get(m.group(1))
    return info


def list_page(limit: int = 20, after_id: str | None = None, before_id: str | None = None) -> dict[str, object]:
    """One page of the model list with the API's cursor fields (``has_more``, ``first_id``, ``last_id``)."""
    ids = [m.id for m in MODELS]
    start, end = 0, len(MODELS)
    if after_id is not None and after_id in ids:
        start = ids.index(after_id) + 1
    if before_id is not None and before_id in ids:
        end = ids.index(before_id)
        start = max(start, end - limit)
    page = MODELS[start:end][:limit]
    has_more = (start + len(page) < end) if before_id is None else start > 0
    return {
        "data": [m.as_dict() for m in page],
        "has_more": has_more,
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
    }
