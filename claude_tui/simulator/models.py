"""The models the simulator answers to, from the engine's one table, in the shape `/v1/models` returns.

Fields follow the Models API reference (`GET /v1/models`, `GET /v1/models/{model_id}`) and the
SDK 2.x ``ModelInfo`` type: ``max_tokens``, ``max_input_tokens``, ``line``, ``lifecycle`` and
``capabilities`` next to ``id``, ``display_name`` and ``created_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine import models as table
from ..engine.models import ModelSpec


def _yes(flag: bool) -> dict[str, bool]:
    return {"supported": flag}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model as one request named it (``id`` is the name asked for: alias, id or dated id)."""

    id: str
    spec: ModelSpec

    @property
    def max_output_tokens(self) -> int:
        return self.spec.max_output

    @property
    def context_window(self) -> int:
        return self.spec.context_window

    @property
    def rate_class(self) -> str:
        return self.spec.rate_class

    def as_dict(self) -> dict[str, Any]:
        spec = self.spec
        adaptive = spec.thinking == "adaptive"
        # Retrieving an alias answers with the model's id (the dated snapshot), as the API does.
        shown = spec.id if self.id in spec.names else self.id
        return {
            "type": "model", "id": shown, "display_name": spec.display_name, "created_at": spec.created_at,
            "max_tokens": spec.max_output, "max_input_tokens": spec.context_window,
            "line": spec.line, "lifecycle": spec.lifecycle, "deprecated_at": None, "retires_at": None,
            "capabilities": {
                "batch": _yes(True), "citations": _yes(True), "code_execution": _yes(True),
                "context_management": {"supported": True, "clear_thinking_20251015": _yes(True),
                                       "clear_tool_uses_20250919": _yes(True), "compact_20260112": _yes(adaptive)},
                "effort": {"supported": adaptive, **{lvl: _yes(adaptive) for lvl in ("low", "medium", "high", "max")}},
                "image_input": _yes(True), "pdf_input": _yes(True),
                "server_tools": {"supported": True, "code_execution": _yes(True), "web_search": _yes(True)},
                "structured_outputs": _yes(True),
                "thinking": {"supported": True, "types": {"enabled": _yes(not adaptive), "adaptive": _yes(adaptive),
                                                          "disabled": _yes(True), "between_tools": _yes(adaptive)}},
            },
        }


def find_model(model_id: str) -> ModelInfo | None:
    """The model for an id or alias, accepting a dated snapshot id (``claude-sonnet-4-5-20250929``) too."""
    spec = table.find_model(model_id)
    return None if spec is None else ModelInfo(model_id, spec)


def list_page(limit: int = 20, after_id: str | None = None, before_id: str | None = None) -> dict[str, object]:
    """One page of the model list with the API's cursor fields (``has_more``, ``first_id``, ``last_id``)."""
    specs = table.MODELS
    ids = [m.id for m in specs]
    start, end = 0, len(specs)
    if after_id is not None and after_id in ids:
        start = ids.index(after_id) + 1
    if before_id is not None and before_id in ids:
        end = ids.index(before_id)
        start = max(start, end - limit)
    page = specs[start:end][:limit]
    has_more = (start + len(page) < end) if before_id is None else start > 0
    return {
        "data": [ModelInfo(m.id, m).as_dict() for m in page],
        "has_more": has_more,
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
    }
