"""Estimated cost from a price table: list prices in USD per million tokens, overridable by config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .events import Usage
from .models import MODELS


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens. 5-minute cache writes default to 1.25x input, reads to 0.1x; 1-hour writes are 2x."""

    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None

    def cost(self, usage: Usage) -> float:
        """Input, output, cache reads (0.1x input) and cache writes by TTL: 5-minute 1.25x input (or
        ``cache_write``), 1-hour 2x input (pricing page; the split is ``usage.cache_creation``)."""
        cache_write = self.cache_write if self.cache_write is not None else self.input * 1.25
        cache_read = self.cache_read if self.cache_read is not None else self.input * 0.1
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_write_5m_tokens * cache_write
            + usage.cache_write_1h_tokens * self.input * 2
            + usage.cache_read_input_tokens * cache_read
        ) / 1_000_000

    def cache_saving(self, usage: Usage) -> float:
        """USD the cache saved on this usage: its cost with every cached token billed as plain input,
        minus its cost. Negative on a request that only wrote the cache (writes cost more than input)."""
        uncached = Usage(
            input_tokens=usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens,
            output_tokens=usage.output_tokens,
        )
        return self.cost(uncached) - self.cost(usage)


#: List prices from the one model table (engine/models.py), under each id and alias. An estimate, not a bill.
DEFAULT_PRICES: dict[str, Price] = {
    name: Price(spec.input_price, spec.output_price, cache_read=spec.cache_read_price)
    for spec in MODELS for name in spec.names
}


class PriceTable:
    """Looks a model up exactly, then by the longest known prefix (dated ids like `claude-haiku-4-5-2026…`)."""

    def __init__(self, overrides: Mapping[str, Price] | None = None) -> None:
        self._prices = dict(DEFAULT_PRICES)
        if overrides:
            self._prices.update(overrides)

    def price(self, model: str) -> Price | None:
        if model in self._prices:
            return self._prices[model]
        matches = [known for known in self._prices if model.startswith(known)]
        return self._prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, usage: Usage) -> float | None:
        price = self.price(model)
        return None if price is None else price.cost(usage)

    def cache_saving(self, model: str, usage: Usage) -> float | None:
        price = self.price(model)
        return None if price is None else price.cache_saving(usage)

    @property
    def models(self) -> list[str]:
        return sorted(self._prices)
