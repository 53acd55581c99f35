"""`run --dry-run` and `--mode auto`: what a job would cost and take, live and as Message Batches.

Live time is bounded by whichever rate limit binds first:
``T_live = max(N / RPM, Σ input / ITPM, Σ max_tokens / OTPM)`` minutes (max_tokens is the
worst case the API reserves against OTPM). Batches cost 50 % of every token and usually finish
within the hour, so they win when the deadline allows an hour and the job is long or costly.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any, Sequence

from ..engine.events import Usage
from ..engine.pricing import PriceTable
from .prompts import PromptSpec

BATCH_PRICE_FACTOR = 0.5
#: auto picks batch past these (the reference: polling overhead dominates a small job).
AUTO_MIN_LIVE_MINUTES = 10.0
AUTO_MIN_LIVE_COST = 5.0  # USD
AUTO_MIN_DEADLINE_HOURS = 1.0
#: Count exactly this many prompts with count_tokens and scale the local estimate by the ratio:
#: 10,000 calls would take minutes under the count_tokens rate limit; 50 take under a second.
COUNT_SAMPLE = 50


@dataclass(frozen=True, slots=True)
class Limits:
    rpm: int | None
    itpm: int | None
    otpm: int | None


#: Used when nothing better is known (the API's tier-1 limits for Sonnet); `--limits` overrides.
DEFAULT_LIMITS = Limits(rpm=50, itpm=30_000, otpm=8_000)


@dataclass(frozen=True, slots=True)
class Plan:
    prompts: int
    input_tokens: int
    input_source: str  # how input_tokens was obtained, printed with it
    max_output_tokens: int  # Σ max_tokens, the worst case
    live_cost: float | None
    live_minutes: float | None  # None when no limit is known
    binding: str  # which limit binds ("requests", "input tokens", "output tokens" or "none")

    @property
    def batch_cost(self) -> float | None:
        return None if self.live_cost is None else self.live_cost * BATCH_PRICE_FACTOR


def local_tokens(spec: PromptSpec, system: str | None) -> int:
    """About 4 characters a token plus message framing (the same rule the simulator bills by)."""
    text_system = spec.system if spec.system is not None else system
    framing = 7 + (3 if text_system else 0)
    return framing + math.ceil(len(spec.prompt) / 4) + math.ceil(len(text_system or "") / 4)


def params_for(spec: PromptSpec, model: str, max_tokens: int, system: str | None) -> dict[str, Any]:
    """The messages body of one prompt (the batch runner sends exactly this)."""
    params: dict[str, Any] = {"model": spec.model or model, "max_tokens": spec.max_tokens or max_tokens,
                              "messages": [{"role": "user", "content": spec.prompt}]}
    chosen = spec.system if spec.system is not None else system
    if chosen:
        params["system"] = chosen
    return params


async def count_sample(client: Any, specs: Sequence[PromptSpec], model: str, system: str | None) -> float | None:
    """count_tokens ÷ local estimate over an even sample; None if the API can't be reached."""
    step = max(1, len(specs) // COUNT_SAMPLE)
    sample = list(specs[::step])[:COUNT_SAMPLE]
    gate = asyncio.Semaphore(10)

    async def count(spec: PromptSpec) -> int:
        body = params_for(spec, model, 1, system)
        body.pop("max_tokens")
        async with gate:
            return (await client.messages.count_tokens(**body)).input_tokens

    try:
        async with asyncio.timeout(30):
            counted = sum(await asyncio.gather(*(count(spec) for spec in sample)))
    except Exception:  # offline, refused, no permission, too slow: the local estimate stands, labelled
        return None
    estimated = sum(local_tokens(spec, system) for spec in sample)
    return counted / estimated if estimated else None


def make_plan(specs: Sequence[PromptSpec], *, model: str, max_tokens: int, system: str | None,
              prices: PriceTable, limits: Limits, ratio: float | None) -> Plan:
    local = sum(local_tokens(spec, system) for spec in specs)
    if ratio is None:
        input_tokens, source = local, "local estimate (~4 chars/token; count_tokens not reached)"
    else:
        input_tokens = round(local * ratio)
        n = min(len(specs), COUNT_SAMPLE)
        source = "count_tokens" if n == len(specs) else f"count_tokens on {n} of {len(specs):,}, scaled"
    outputs = sum(spec.max_tokens or max_tokens for spec in specs)
    cost: float | None = 0.0
    for spec in specs:
        one = prices.cost(spec.model or model, Usage(input_tokens=round(local_tokens(spec, system) * (ratio or 1)),
                                                      output_tokens=spec.max_tokens or max_tokens))
        cost = None if one is None or cost is None else cost + one
    candidates = [(len(specs) / limits.rpm, "requests") if limits.rpm else None,
                  (input_tokens / limits.itpm, "input tokens") if limits.itpm else None,
                  (outputs / limits.otpm, "output tokens") if limits.otpm else None]
    known = [c for c in candidates if c is not None]
    minutes, binding = max(known) if known else (None, "none")
    return Plan(len(specs), input_tokens, source, outputs, cost, minutes, binding)


def choose_mode(plan: Plan, deadline_hours: float | None) -> tuple[str, str]:
    """(mode, why) for `--mode auto`."""
    if deadline_hours is None:
        return "live", "no --deadline given (a batch may take up to 24 h)"
    if deadline_hours < AUTO_MIN_DEADLINE_HOURS:
        return "live", f"--deadline {deadline_hours:g} h is under the {AUTO_MIN_DEADLINE_HOURS:g} h a batch may need"
    if plan.live_minutes is not None and plan.live_minutes > AUTO_MIN_LIVE_MINUTES:
        return "batch", (f"live would take ~{plan.live_minutes:,.0f} min ({plan.binding} limit) and "
                         f"--deadline {deadline_hours:g} h allows a batch at half price")
    if plan.live_cost is not None and plan.live_cost > AUTO_MIN_LIVE_COST:
        return "batch", f"live would cost up to ${plan.live_cost:,.2f}; a batch halves it"
    return "live", (f"small job (~{plan.live_minutes or 0:,.1f} min live, up to ${plan.live_cost or 0:,.2f}): "
                    "polling a batch would cost more time than it saves")


def plan_lines(plan: Plan, mode: str, why: str) -> list[str]:
    def usd(v: float | None) -> str:
        return "unknown (no price for the model)" if v is None else f"${v:,.4f}"

    live = "unknown (no rate limit known)" if plan.live_minutes is None else \
        f"{plan.live_minutes:,.1f} min (bound by {plan.binding} per minute)"
    return [
        f"prompts               {plan.prompts:,}",
        f"input tokens          {plan.input_tokens:,}  [{plan.input_source}]",
        f"output (worst case)   {plan.max_output_tokens:,}  (Σ max_tokens)",
        f"cost live             up to {usd(plan.live_cost)}",
        f"cost batch            up to {usd(plan.batch_cost)}  (50 %)",
        f"estimated live time   {live}",
        f"--mode auto would use {mode}: {why}",
    ]
