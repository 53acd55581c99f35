"""Render the README screenshots with the app itself, on the simulator: ``python -m claude_tui.ui.screenshots``.

Writes ``screenshots/main.svg`` (several tabs mid-stream + the stats panel), ``screenshots/backoff.svg``
(a live 429 countdown) and ``screenshots/palette.svg`` (the command palette). Only the simulator's
own key is ever used, and it never appears on screen.

The session is a realistic one: a system prompt long enough to cache (so replies read it from the
prompt cache and the panel shows the hit ratio and the saving), a conversation of a few turns, the
rate-limit budget on (the simulator sends rate-limit headers; the budget learns the limits from
them), more prompts than the concurrency limit, and a second prompt waiting in a tab (``+1``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from claude_tui.backend import SIMULATOR_KEY
from claude_tui.engine.retry import RetryPolicy

SIZE = (140, 42)
PROMPTS = (
    "How should I size a worker pool for bursty traffic?",
    "Explain token buckets with a small Python example",
    "Compare retry strategies: fixed, exponential, jittered",
    "What do p95 and p99 latency tell me that the mean hides?",
)


#: A team's house style, as people paste into a system prompt: ~1,300 tokens, over Sonnet's 1,024-token
#: caching minimum, so every request after the first reads it from the prompt cache.
SYSTEM = " ".join([
    "You are a senior backend engineer reviewing designs for services that call rate-limited APIs.",
    "Answer in plain prose with short paragraphs; use a list only for steps that happen in order.",
    "Give numbers with their units and say where a number comes from: measured, documented or guessed.",
    "Prefer the standard library and the client SDK's own retry and timeout settings to new code.",
    "When a question mixes latency and throughput, answer them apart: the user cares about one first.",
    "Name the failure mode before the fix, and say what the user will see when it happens.",
    "Code examples are Python 3.11, typed, short, and runnable as shown; no placeholder names.",
] * 12)


@dataclass(frozen=True)
class Pacing:
    """The rate budget the app runs with (the fields ``engine.budget_factory.open_budget`` reads, at
    ``config.LimitSettings``' defaults: the ui package does not import config)."""

    limiter: str = "on"
    redis_url: str | None = None
    burst_seconds: float = 1.0
    slow_start: bool = False
    caps: dict[str, int] = field(default_factory=dict)


def default_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "screenshots"


async def _until(pilot: Any, predicate: Callable[[], Any], timeout: float = 20.0, extra: Callable[[], Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app did not reach the state to capture: {extra() if extra else ''}")
        await asyncio.sleep(0.05)


async def render(out_dir: Path, *, theme: str | None = None) -> list[Path]:
    from claude_tui.simulator import Simulator, SimulatorConfig

    from .launch import build_app

    out_dir.mkdir(parents=True, exist_ok=True)
    sim = Simulator(SimulatorConfig(ttft_ms=300, tps=45, reply_tokens=700, jitter=0.2, seed=42, rpm=600, itpm=2_000_000, otpm=400_000))
    await sim.start()
    written: list[Path] = []
    try:
        app = build_app(
            sim.base_url,
            max_tokens=1024,
            concurrency=3,
            system=SYSTEM,
            limits=Pacing(),
            policy=RetryPolicy(max_attempts=5, base=0.5, cap=8.0),
            stall_timeout=30.0,
            theme=theme,
        )
        async with app.run_test(size=SIZE) as pilot:
            # a short conversation first, so the panel has figures and its replies' footers show the cache
            sim.configure(tps=150, ttft_ms=250, reply_tokens=45)
            first = app.active_chat
            assert first is not None
            for prompt in ("What do TTFT and TPOT measure?", "Which of the two matters more in a chat UI?"):
                first.send(prompt)
                await _until(pilot, lambda: all(t.state == "done" for t in first.turns))
            sim.configure(tps=45, ttft_ms=300, reply_tokens=700)
            chats = [first]
            for _ in PROMPTS[1:]:
                chats.append(await app.new_tab(focus=False))
            for chat, prompt in zip(chats, PROMPTS):
                chat.send(prompt)
            chats[1].send("And with a token bucket per model class?")  # waits in its tab: "+1"
            app.tabs.active = first.tab_id
            streaming = first.turns[-1]
            await _until(pilot, lambda: len(first.reply(streaming).body.text) > 420,
                         extra=lambda: [(c.state, len(c.turns)) for c in chats])
            app._refresh_stats()
            await pilot.pause(0.2)
            written.append(Path(app.save_screenshot("main.svg", str(out_dir))))

            for chat in chats:
                await chat.cancel()
            await _until(pilot, lambda: app.pool is not None and app.pool.in_flight == 0)
            # a 429 with retry-after: the countdown to the engine's deadline
            sim.configure(tps=200, ttft_ms=100)
            sim.inject("rate_limit", retry_after=7)
            chat = await app.new_tab()
            chat.send("Summarise the trade-offs of client-side rate limiting")
            await _until(pilot, lambda: chat.state == "backoff")
            await asyncio.sleep(1.6)
            await pilot.pause(0.05)
            written.append(Path(app.save_screenshot("backoff.svg", str(out_dir))))
            await chat.cancel()

            await pilot.press("ctrl+p")
            await pilot.pause(0.3)
            for key in "copy":
                await pilot.press(key)
            await pilot.pause(0.3)
            written.append(Path(app.save_screenshot("palette.svg", str(out_dir))))
            await pilot.press("escape")
    finally:
        await sim.stop()
    for path in written:
        svg = path.read_text(encoding="utf-8")
        if SIMULATOR_KEY in svg:
            raise RuntimeError(f"{path} shows an API key")
        path.write_text(preserve_spaces(svg), encoding="utf-8")
    return written


def preserve_spaces(svg: str) -> str:
    """Textual's SVG with ``xml:space="preserve"``: without it some renderers (rsvg-convert, so every PNG
    made from it) drop a text run's leading space, so "use `x` to" drew as "use xto" and the panel's
    column headers slid left. Browsers keep the no-break spaces either way."""
    return svg if 'xml:space="preserve"' in svg[:300] else svg.replace("<svg ", '<svg xml:space="preserve" ', 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_dir(), help="output directory (default: screenshots/)")
    parser.add_argument("--theme", help="theme name (default: claude-dark)")
    args = parser.parse_args(argv)
    for path in asyncio.run(render(args.out, theme=args.theme)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
