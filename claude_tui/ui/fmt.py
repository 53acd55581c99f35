"""Small, pure formatting helpers for the UI (numbers, durations, bars, error words)."""

from __future__ import annotations

from claude_tui.engine.errors import WILL_FAIL_AGAIN, hint_for
from claude_tui.engine.events import BackingOff, Done, ErrorKind, Failed, Throttled, Usage
from claude_tui.engine.pricing import PriceTable

#: List prices, for a saving figure where the caller has no table of its own (config overrides aside).
_LIST_PRICES = PriceTable()

_KIND_WORDS: dict[str, str] = {
    "rate_limit": "rate limited (429)",
    "overloaded": "overloaded (529)",
    "server_error": "server error",
    "timeout": "timed out",
    "conflict": "conflict (409)",
    "stream_error": "stream interrupted",
    "disconnect": "connection dropped",
    "stall": "stream stalled",
    "truncated": "stream cut short",
    "bad_request": "bad request (400)",
    "authentication": "authentication failed (401)",
    "billing": "billing problem (402)",
    "permission": "permission denied (403)",
    "not_found": "not found (404)",
    "too_large": "request too large (413)",
    "spend_limit": "spend limit reached",
    "unknown": "unexpected error",
}


def kind_words(kind: str) -> str:
    return _KIND_WORDS.get(kind, kind)


def seconds(value: float | None, *, digits: int = 2) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f} s"
    return f"{value:.{digits}f} s"


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 10:
        return f"{value:.1f} s"
    return f"{value * 1000:.0f} ms"


def count(value: int | float | None) -> str:
    if value is None:
        return "—"
    value = float(value)
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.2f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.1f}k"
    return f"{value:,.0f}"


def money(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 0.01:
        return f"${value:.4f}"
    return f"${value:.2f}"


def rate(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def bar(fraction: float | None, width: int = 12) -> str:
    """A text gauge: ``███████░░░░░`` (empty track when unknown)."""
    if fraction is None:
        return "·" * width
    fraction = max(0.0, min(1.0, fraction))
    full = round(fraction * width)
    return "█" * full + "░" * (width - full)


def backoff_label(event: BackingOff) -> str:
    """``rate_limit_error (429)`` from the API's own error type when there is one, else plain words."""
    if event.status_code is not None and "(" in event.message and ":" in event.message:
        head = event.message.split(":", 1)[0].strip()
        if head:
            return head
    return kind_words(event.reason)


def countdown_text(event: BackingOff, remaining: float) -> str:
    text = f"{backoff_label(event)} — retry {event.attempt + 1}/{event.max_attempts} in {max(0.0, remaining):.1f} s"
    if event.from_retry_after:
        text += " (server's retry-after)"
    return text


def error_hint(kind: ErrorKind | str) -> str | None:
    return hint_for(kind)  # type: ignore[arg-type]


#: What a Throttled event's ``dimension`` waits for, in words.
_BUDGET_WORDS = {
    "requests": "request budget",
    "input_tokens": "input-token budget",
    "output_tokens": "output-token budget",
    "retry_after": "the rate-limit hold after a 429",
}


def throttle_text(event: Throttled, remaining: float) -> str:
    """``waiting for output-token budget — 3.2 s``: planned pacing, counted down to the budget's deadline."""
    words = _BUDGET_WORDS.get(event.dimension, f"{event.dimension} budget")
    return f"waiting for {words} — {max(0.0, remaining):.1f} s"


def cache_text(usage: Usage, model: str, prices: PriceTable | None = None) -> str | None:
    """``cache read 9.1k · saved $0.0245`` / ``cache written 9.1k (+$0.0068)``; None when the cache was not used.

    The money is ``Price.cache_saving``: what the cached tokens would have cost as plain input, less what
    they cost (a write costs more than input, so a write alone shows as extra).
    """
    read, written = usage.cache_read_input_tokens, usage.cache_creation_input_tokens
    if not read and not written:
        return None
    parts = []
    if read:
        parts.append(f"read {count(read)}")
    if written:
        parts.append(f"written {count(written)}")
    text = "cache " + ", ".join(parts)
    saving = (prices or _LIST_PRICES).cache_saving(model, usage)
    if saving is None:
        return text
    return f"{text} · saved {money(saving)}" if saving >= 0 else f"{text} (+{money(-saving)})"


def footer_text(event: Done, prices: PriceTable | None = None) -> str:
    t = event.timings
    gen = (t.latency - t.ttft) if (t.latency is not None and t.ttft is not None) else None
    out = event.usage.output_tokens
    tps = out / gen if gen and gen > 0 else None
    parts = [
        event.model,
        f"TTFT {ms(t.ttft)}",
        f"total {seconds(t.total)}",
        f"{out} tokens out",
        rate(tps, "tok/s") if tps is not None else "— tok/s",
        f"{money(event.cost)} (estimate)" if event.cost is not None else "cost unknown",
    ]
    cache = cache_text(event.usage, event.model, prices)
    if cache is not None:
        parts.append(cache)
    if event.attempts > 1:
        parts.append(f"{event.attempts} attempts")
    if event.stop_reason == "max_tokens":
        parts.append("cut at max_tokens")
    elif event.stop_reason and event.stop_reason != "end_turn":
        parts.append(f"stop: {event.stop_reason}")
    return " · ".join(parts)


def error_text(event: Failed) -> str:
    hint = error_hint(event.kind)
    labelled = event.status_code is not None and f"({event.status_code})" in event.message
    lines = [f"✗ {event.message}" if labelled else f"✗ {kind_words(event.kind)}: {event.message}"]
    if hint:
        lines.append(f"  hint: {hint}")
    if event.retryable:
        lines.append(f"  gave up after {event.attempts} attempt{'s' if event.attempts != 1 else ''}")
    if event.kind not in WILL_FAIL_AGAIN:
        lines.append("  press Ctrl+R to retry")
    return "\n".join(lines)
