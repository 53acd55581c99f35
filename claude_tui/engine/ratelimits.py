"""Parse the `anthropic-ratelimit-*`, `retry-after` and `request-id` headers of a response."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Mapping

from .events import RateLimitSnapshot

_PREFIX = "anthropic-ratelimit-"
_GROUPS = {"requests": "requests", "tokens": "tokens", "input-tokens": "input_tokens", "output-tokens": "output_tokens"}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _seconds(value: str | None, scale: float) -> float | None:
    """A finite, non-negative number of seconds, or None: `inf`, `nan`, `-3` and garbage are ignored
    (an `inf` on a 529 once meant sleeping for ever; a negative one a hot loop)."""
    if value is None:
        return None
    try:
        number = float(value) / scale
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms` first (more precise), then `retry-after`."""
    ms = _seconds(headers.get("retry-after-ms"), 1000)
    return ms if ms is not None else _seconds(headers.get("retry-after"), 1)


def parse_rate_limits(headers: Mapping[str, str]) -> RateLimitSnapshot:
    fields: dict[str, object] = {"request_id": headers.get("request-id"), "retry_after": parse_retry_after(headers)}
    for header_group, field_group in _GROUPS.items():
        base = _PREFIX + header_group
        fields[f"{field_group}_limit"] = _int(headers.get(base + "-limit"))
        fields[f"{field_group}_remaining"] = _int(headers.get(base + "-remaining"))
        fields[f"{field_group}_reset"] = _epoch(headers.get(base + "-reset"))
    return RateLimitSnapshot(**fields)  # type: ignore[arg-type]
