"""The guide's approach, written from /work/shared/reference/guide-baseline.md, as the baseline.

Faithful on purpose, flaws included:

- one ``AsyncAnthropic`` client with the SDK's defaults, so the SDK's own ``max_retries=2`` is on;
- ``asyncio.gather`` over every prompt at once, each coroutine under ``asyncio.Semaphore(n)``,
  calling ``messages.create`` (non-streaming) — or, for the streaming row, the working form of
  the guide's streaming example (``messages.stream(...).text_stream``; the guide's own
  ``chunk.content`` fails on the first event);
- a retry wrapper: up to 5 attempts; on an exception whose text contains "rate limit"
  (case-insensitive) sleep ``min(1 s × 2^attempt + uniform(0, 1 s), 30 s)`` (attempt from 0) and
  try again; any other exception is re-raised at once; after the 5th failure, "max retries
  exceeded". It never reads ``retry-after``. The sleep happens inside the semaphore (the wrapper
  wraps the call the coroutine makes while holding it). After the 5th failure it raises without a
  last, pointless sleep (the kinder reading of "after the 5th failure raise");
- any exception in the coroutine is "printed" (here: counted into ``errors``, so the tables are
  not spammed) and that prompt's result becomes ``None``: the prompt is lost;
- no ``temperature``: SDK 2.x has no such argument (the guide's ``temperature=0.7`` raises TypeError).

The only additions are measurements (timestamps and ``usage``), which change nothing the guide does.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .measure import Sample

MAX_ATTEMPTS = 5


class MaxRetriesExceeded(Exception):
    pass


async def guide_retry(call: Callable[[], Awaitable[Any]], *, max_retries: int = MAX_ATTEMPTS,
                      sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                      rng: random.Random | None = None) -> Any:
    """The guide's retry wrapper, as described."""
    uniform = (rng or random).uniform
    for attempt in range(max_retries):
        try:
            return await call()
        except Exception as exc:  # noqa: BLE001 - the guide catches everything and inspects the text
            if "rate limit" not in str(exc).lower():
                raise
            if attempt == max_retries - 1:
                break
            await sleep(min(1.0 * 2**attempt + uniform(0, 1), 30.0))
    raise MaxRetriesExceeded("max retries exceeded")


def guide_backoff(attempt: int, jitter: float) -> float:
    """The guide's sleep before retry ``attempt + 1`` (attempt counted from 0), for tests and docs."""
    return min(1.0 * 2**attempt + jitter, 30.0)


@dataclass
class GuideOutcome:
    """What a guide run produced: a result (or None = lost) per prompt, plus our measurements."""

    results: list[str | None]
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    tpots: list[float] = field(default_factory=list)
    output_tokens: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    itls: list[float] = field(default_factory=list)  # gaps between text chunks (streaming only)
    samples: list[Sample] = field(default_factory=list)
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    @property
    def completed(self) -> int:
        return sum(1 for r in self.results if r is not None)

    @property
    def lost(self) -> int:
        return sum(1 for r in self.results if r is None)


def _error_label(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    return f"{name} ({status})" if status else name


class Guide:
    """The guide's three strategies against one client. ``client`` is the guide's ``AsyncAnthropic()``."""

    def __init__(self, client: Any, *, model: str, max_tokens: int,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.client = client
        self.model = model
        self.max_tokens = max_tokens
        self._sleep = sleep  # the wrapper's sleep; tests may compress time, the benchmark never does

    def _params(self, prompt: str) -> dict[str, Any]:
        return {"model": self.model, "max_tokens": self.max_tokens, "messages": [{"role": "user", "content": prompt}]}

    @staticmethod
    def _usage(out: GuideOutcome, usage: Any) -> None:
        out.output_tokens += usage.output_tokens
        out.input_tokens += usage.input_tokens
        out.cache_read_tokens += getattr(usage, "cache_read_input_tokens", 0) or 0
        out.cache_write_tokens += getattr(usage, "cache_creation_input_tokens", 0) or 0

    async def _create(self, prompt: str, out: GuideOutcome) -> str:
        sent = time.monotonic()
        response = await guide_retry(lambda: self.client.messages.create(**self._params(prompt)), sleep=self._sleep)
        done = time.monotonic()
        out.latencies.append(done - sent)
        out.samples.append(Sample(None, done - sent, None, done - out.started))
        self._usage(out, response.usage)
        return response.content[0].text

    async def _stream(self, prompt: str, out: GuideOutcome) -> str:
        async def once() -> tuple[str, float | None, Any, list[float]]:
            first: float | None = None
            last = 0.0
            gaps: list[float] = []
            parts: list[str] = []
            async with self.client.messages.stream(**self._params(prompt)) as stream:
                async for text in stream.text_stream:
                    now = time.monotonic()
                    if first is None:
                        first = now
                    else:
                        gaps.append(now - last)
                    last = now
                    parts.append(text)
                message = await stream.get_final_message()
            return "".join(parts), first, message.usage, gaps

        sent = time.monotonic()
        text, first, usage, gaps = await guide_retry(once, sleep=self._sleep)
        done = time.monotonic()
        out.latencies.append(done - sent)
        self._usage(out, usage)
        out.itls.extend(gaps)
        tokens = usage.output_tokens
        tpot = None
        if first is not None:
            out.ttfts.append(first - sent)
            if tokens > 1:
                tpot = (done - first) / (tokens - 1)
                out.tpots.append(tpot)
        out.samples.append(Sample(None if first is None else first - sent, done - sent, tpot, done - out.started,
                                  max(gaps) if gaps else None))
        return text

    async def sequential(self, prompts: list[str]) -> GuideOutcome:
        """Row 1: one request at a time."""
        out = GuideOutcome(results=[])
        out.started = time.monotonic()
        out.max_in_flight = 1 if prompts else 0
        for prompt in prompts:
            try:
                out.results.append(await self._create(prompt, out))
            except Exception as exc:  # noqa: BLE001 - the guide prints and moves on
                out.errors[_error_label(exc)] += 1
                out.results.append(None)
        out.finished = time.monotonic()
        return out

    async def concurrent(self, prompts: list[str], max_concurrent: int = 5, *, stream: bool = False,
                         arrivals: list[float] | None = None) -> GuideOutcome:
        """Rows 2 and 3: ``asyncio.gather`` over all prompts, each under ``Semaphore(max_concurrent)``.

        With ``arrivals`` (seconds from the start, one per prompt) each prompt is sent no earlier
        than its arrival: the open-loop arrival modes of ``bench --scenario serve``.
        """
        out = GuideOutcome(results=[])
        semaphore = asyncio.Semaphore(max_concurrent)
        call = self._stream if stream else self._create

        async def process(index: int, prompt: str) -> str | None:
            if arrivals is not None:
                delay = out.started + arrivals[index] - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)  # the arrival schedule, not synchronisation
            async with semaphore:
                out.in_flight += 1
                out.max_in_flight = max(out.max_in_flight, out.in_flight)
                try:
                    return await call(prompt, out)
                except Exception as exc:  # noqa: BLE001 - "print(f'error: {e}')"; the result is None
                    out.errors[_error_label(exc)] += 1
                    return None
                finally:
                    out.in_flight -= 1

        out.started = time.monotonic()
        out.results = list(await asyncio.gather(*(process(i, p) for i, p in enumerate(prompts))))
        out.finished = time.monotonic()
        return out
