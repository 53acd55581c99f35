"""Which limit binds, and what to do about it: the guide's "analyse the request pattern", made concrete.

A pure function over a budget snapshot (and two figures from the metrics), so the `run` summary and
the stats panel say the same words, and tests need no server. The binding dimension is the one
attempts waited on longest (a 429's hold counts as its own); "% used" is how full the run kept
that bucket (``DimensionState.pressure``). The lever follows from the API's own accounting: OTPM is
charged at ``max_tokens`` when a request starts and settled at the end, so a ``max_tokens`` far above
the replies' length holds back requests the limit would allow. While a ramp is on (a 429
``ramp_limit_exceeded``, or ``slow_start``) the "% used" is of the share in force, and the headline says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .budget import DIMENSIONS, HOLD, BudgetSnapshot, ClassState

#: How each dimension is named in a sentence, and the limit's usual abbreviation.
WORDS = {"requests": ("requests", "RPM"), "input_tokens": ("input tokens", "ITPM"), "output_tokens": ("output tokens", "OTPM")}

#: A suggested max_tokens leaves this much room above the replies seen (×p95, ×mean), rounded up
#: to ROUND: enough for the longest replies so far, so the advice does not trade pace for cut replies.
ROOM_P95, ROOM_MEAN, ROUND = 1.25, 1.5, 50
#: Below this gain a smaller max_tokens is not worth suggesting.
MIN_GAIN = 1.25


@dataclass(frozen=True, slots=True)
class Advice:
    binding: str | None  # "requests" | "input_tokens" | "output_tokens" | "retry_after" | None
    headline: str  # which limit bound and the lever, one line
    drain: str | None = None  # how long the queue will take, when the queue outgrows the budget

    @property
    def lines(self) -> list[str]:
        return [self.headline] + ([self.drain] if self.drain else [])


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def _used(state: ClassState, dim: str) -> str | None:
    d = state.dimensions.get(dim)
    if d is None or d.limit is None:
        return None
    name, unit = WORDS[dim]
    return f"{name} used {_pct(d.pressure)} of {unit}"


def suggested_max_tokens(state: ClassState) -> int | None:
    """A max_tokens that fits the replies seen so far with room to spare; None without replies."""
    if not state.replies or state.mean_output is None:
        return None
    need = max((state.p95_output or 0.0) * ROOM_P95, state.mean_output * ROOM_MEAN, 1.0)
    return int(math.ceil(need / ROUND) * ROUND)


def _lever(state: ClassState, binding: str) -> str:
    if binding == "output_tokens":
        suggested = suggested_max_tokens(state)
        reserved = state.mean_max_tokens
        if suggested is not None and reserved and state.mean_output is not None:
            gain = reserved / suggested
            requests = state.dimensions["requests"]
            if requests.limit is not None and requests.pressure > 0:
                gain = min(gain, 1 / requests.pressure)  # the next limit caps what a smaller reservation buys
            head = f"replies average {state.mean_output:.0f} tokens against max_tokens {reserved:.0f}"
            if gain >= MIN_GAIN:
                return f"{head} — lowering max_tokens to {suggested} would let ~{gain:.1f}× more requests start"
            return f"{head} — replies use most of what they reserve: only a higher OTPM limit goes faster"
        return "lower max_tokens towards the replies' length, or ask for a higher OTPM limit"
    if binding == "requests":
        return "every request counts once: only a higher RPM limit (or --mode batch, limited separately) goes faster"
    if binding == "input_tokens":
        return "cache the shared prompt prefix (cache reads do not count toward ITPM) or send shorter prompts"
    if state.ramp_downs:
        return "the API's ramp limit (usage grew faster than the key is allowed to grow): the budget halved its pace"
    return "another client on this API key? share one budget with --redis"


def _ramping(state: ClassState) -> str:
    """``; pacing at 50 % of the limits, ×2 each clean minute`` while a ramp is on (else "")."""
    if state.slow_start >= 1.0:
        return ""
    return f"; pacing at {_pct(state.slow_start)} of the limits, ×2 each clean minute"


def advise(snap: BudgetSnapshot, *, waiting: int = 0, requests_per_min: float | None = None) -> Advice:
    """The advice for the busiest model class.

    ``waiting``: prompts queued or waiting on the budget now; ``requests_per_min``: the completion
    rate measured over the last minute (the metrics' window). Together they say how long the queue
    will take to drain when arrivals outran the budget.
    """
    state = snap.main
    if state is None:
        return Advice(None, "no rate-limit headers yet: nothing to pace by")
    # the dimension waited on longest so far; early on, before any wait has ended, the one waited on now
    binding = state.run_binding or (state.binding if state.waiting and state.binding else None)
    used = [u for u in (_used(state, dim) for dim in DIMENSIONS) if u]
    if binding is None:
        return Advice(None, "no limit bound: nothing waited on the budget" + (f" ({', '.join(used)})" if used else ""),
                      _drain(state, waiting, requests_per_min))
    if binding == HOLD:
        headline = f"429s held the budget {state.hold_seconds:.1f} s: {_lever(state, binding)}{_ramping(state)}"
        return Advice(binding, headline, _drain(state, waiting, requests_per_min))
    name, unit = WORDS[binding]
    others = [u for dim in DIMENSIONS if dim != binding and (u := _used(state, dim))]
    headline = f"{name} bound this run: {_pct(state.dimensions[binding].pressure)} of {unit} used"
    if others:
        headline += " while " + " and ".join(others)
    headline += f"; {_lever(state, binding)}{_ramping(state)}"
    return Advice(binding, headline, _drain(state, waiting, requests_per_min))


def _drain(state: ClassState, waiting: int, requests_per_min: float | None) -> str | None:
    """``queue: 140 waiting — about 2.3 min to drain at 60 requests/min`` (None when nothing waits)."""
    if waiting <= 0:
        return None
    # the measured rate, but never above what the limits in force allow (a burst at the start, or slow
    # start's ramp, would promise a drain the budget cannot keep)
    rates = [r for r in (requests_per_min, _limit_rate(state)) if r and r > 0]
    if not rates:
        return None
    rate = min(rates)
    minutes = waiting / rate
    when = f"{minutes * 60:.0f} s" if minutes < 2 else f"{minutes:.1f} min"
    return f"queue: {waiting} waiting — about {when} to drain at {rate:.0f} requests/min"


def _limit_rate(state: ClassState) -> float | None:
    """Requests per minute the limits allow, at the replies' measured size (None if unknown)."""
    rates = []
    requests = state.dimensions["requests"].limit
    if requests:
        rates.append(float(requests))
    output = state.dimensions["output_tokens"].limit
    if output and state.mean_output:
        rates.append(output / state.mean_output)
    return min(rates) if rates else None
