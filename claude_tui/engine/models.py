"""The one table of Claude models: ids, aliases, limits, list prices and rate-limit class.

The simulator answers with it (``/v1/models``, the ``max_tokens`` check, the context window),
the price table (``engine.pricing``) charges from it, and the UI offers its ids. Figures are
from the platform.claude.com model pages (``/docs/en/models/overview``, ``/docs/*/models/<model>/
overview``, 2026 copies) — see docs/simulator.md. When Anthropic publishes new models, this
table is the only place to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

K = 1_000
M = 1_000_000


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model as the docs describe it. Prices are USD per million tokens (input, output).

    ``id`` is the Claude API id; ``alias`` the moving name that points at it (equal to ``id``
    for models published without a dated snapshot). ``rate_class`` groups the models that
    share one set of RPM/ITPM/OTPM buckets ("per model class", rate-limits page).
    """

    id: str
    alias: str
    display_name: str
    line: str  # "opus" | "sonnet" | "haiku" | "fable", the SDK's ModelInfo.line
    created_at: str  # RFC 3339 release date
    context_window: int
    max_output: int
    input_price: float
    output_price: float
    rate_class: str
    thinking: str = "adaptive"  # "adaptive" | "extended": which thinking types the model takes
    lifecycle: str = "active"
    cache_read_price: float | None = None  # USD/MTok where it is not the usual 0.1x input

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id,) if self.alias == self.id else (self.id, self.alias)


def _m(id: str, name: str, line: str, created: str, ctx: int, out: int, price_in: float, price_out: float,
       rate_class: str, *, alias: str | None = None, thinking: str = "adaptive",
       cache_read: float | None = None) -> ModelSpec:
    return ModelSpec(id, alias or id, name, line, created + "T00:00:00Z", ctx, out, price_in, price_out,
                     rate_class, thinking, cache_read_price=cache_read)


#: Newest first, as ``GET /v1/models`` lists them. Release dates of the 5.5 family are not on
#: the page copies we have; 2026-10-21 is an estimate (the first client release naming them).
MODELS: tuple[ModelSpec, ...] = (
    # cache reads: Opus 5.5 $0.20 (0.05x, its model page), Fable 5.1 $0.25 (0.025x, the pricing page)
    _m("claude-opus-5-5", "Claude Opus 5.5", "opus", "2026-10-21", 1 * M, 128 * K, 4, 20, "opus-5", cache_read=0.20),
    _m("claude-sonnet-5-5", "Claude Sonnet 5.5", "sonnet", "2026-10-21", 1 * M, 128 * K, 2, 10, "sonnet-5"),
    # Haiku 5.5 bills prompts over 100K tokens at a higher rate; the table keeps the base rate.
    _m("claude-haiku-5-5", "Claude Haiku 5.5", "haiku", "2026-10-21", 1 * M, 128 * K, 0.10, 0.50, "haiku-5"),
    _m("claude-fable-5-1", "Claude Fable 5.1", "fable", "2026-09-01", 1 * M, 128 * K, 10, 50, "fable-5",
       cache_read=0.25),
    _m("claude-opus-5", "Claude Opus 5", "opus", "2026-07-24", 1 * M, 128 * K, 5, 25, "opus-5"),
    _m("claude-sonnet-5", "Claude Sonnet 5", "sonnet", "2026-06-30", 1 * M, 128 * K, 2, 10, "sonnet-5"),
    _m("claude-fable-5", "Claude Fable 5", "fable", "2026-06-09", 1 * M, 128 * K, 10, 50, "fable-5"),
    _m("claude-opus-4-8", "Claude Opus 4.8", "opus", "2026-05-28", 1 * M, 128 * K, 5, 25, "opus-4"),
    _m("claude-opus-4-7", "Claude Opus 4.7", "opus", "2026-04-16", 1 * M, 128 * K, 5, 25, "opus-4"),
    _m("claude-sonnet-4-6", "Claude Sonnet 4.6", "sonnet", "2026-02-17", 1 * M, 128 * K, 3, 15, "sonnet-4"),
    _m("claude-opus-4-6", "Claude Opus 4.6", "opus", "2026-02-05", 1 * M, 128 * K, 5, 25, "opus-4"),
    _m("claude-opus-4-5-20251101", "Claude Opus 4.5", "opus", "2025-11-24", 200 * K, 64 * K, 5, 25, "opus-4",
       alias="claude-opus-4-5", thinking="extended"),
    _m("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "haiku", "2025-10-15", 200 * K, 64 * K, 1, 5, "haiku-4",
       alias="claude-haiku-4-5", thinking="extended"),
    _m("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "sonnet", "2025-09-29", 200 * K, 64 * K, 3, 15,
       "sonnet-4", alias="claude-sonnet-4-5", thinking="extended"),
)

_BY_NAME: dict[str, ModelSpec] = {name: spec for spec in MODELS for name in spec.names}
_DATED = re.compile(r"^(.*)-(\d{8})$")


def find_model(name: str) -> ModelSpec | None:
    """The model for an id or alias; a dated id of a known alias (``claude-sonnet-4-6-20260217``) too."""
    spec = _BY_NAME.get(name)
    if spec is None:
        m = _DATED.match(name)
        if m:
            spec = _BY_NAME.get(m.group(1))
    return spec


def model_ids() -> list[str]:
    """The names a user types most: each model's alias (its id when it has no dated snapshot)."""
    return [spec.alias for spec in MODELS]


#: Minimum cacheable prefix (tokens) per model, from the prompt-caching page ("Cache limitations"): a
#: shorter prefix with a breakpoint is silently not cached. Keyed by id prefix; the simulator enforces
#: it and the app marks a breakpoint only above it.
MIN_CACHEABLE = {
    "claude-opus-4-8": 1024, "claude-opus-4-7": 2048, "claude-opus-4-6": 4096, "claude-opus-4-5": 4096,
    "claude-sonnet-4-6": 1024, "claude-sonnet-4-5": 1024, "claude-haiku-4-5": 4096,
    # the 5 family: our copies of the caching page predate it; 512 / 1024 are from a summary of its list.
    # The 5.5 models are not on it: they keep the default (a prefix match would give Opus 5's 512).
    "claude-opus-5": 512, "claude-fable-5": 512, "claude-sonnet-5": 1024,
    "claude-opus-5-5": 1024, "claude-sonnet-5-5": 1024, "claude-haiku-5-5": 1024,
}
DEFAULT_MIN_CACHEABLE = 1024


def min_cacheable(model: str) -> int:
    """The shortest prefix ``model`` caches, in tokens (the longest matching id prefix decides)."""
    for known in sorted(MIN_CACHEABLE, key=len, reverse=True):
        if model.startswith(known):
            return MIN_CACHEABLE[known]
    return DEFAULT_MIN_CACHEABLE
