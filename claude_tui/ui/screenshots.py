"""Render the README screenshots with the app itself, on the simulator: ``python -m claude_tui.ui.screenshots``.

Writes ``screenshots/main.svg`` (several tabs mid-stream + the stats panel), ``screenshots/backoff.svg``
(a live 429 countdown) and ``screenshots/palette.svg`` (the command palette). Only the simulator's
own key is ever used, and it never appears on screen.
"""

from __future__ import annotations

import argparse
import asyncio
import time
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
            policy=RetryPolicy(max_attempts=5, base=0.5, cap=8.0),
            stall_timeout=30.0,
            theme=theme,
        )
        async with app.run_test(size=SIZE) as pilot:
            # a few finished requests first, so the stats panel has figures
            sim.configure(tps=0, ttft_ms=60)
            warm = app.active_chat
            assert warm is not None
            for prompt in ("Warm-up: what is TTFT?", "And what is TPOT?"):
                warm.send(prompt)
            await _until(pilot, lambda: all(t.state == "done" for t in warm.turns))
            await app.close_tab(warm.tab_id)
            sim.configure(tps=45, ttft_ms=300)
            chats = [app.active_chat]
            for _ in PROMPTS[1:]:
                chats.append(await app.new_tab(focus=False))
            for chat, prompt in zip(chats, PROMPTS):
                chat.send(prompt)  # type: ignore[union-attr]
            app.tabs.active = chats[0].tab_id  # type: ignore[union-attr]
            await _until(pilot, lambda: len(chats[0].reply(chats[0].turns[0]).body.text) > 900, extra=lambda: [(c.state, len(c.turns), len(c.reply(c.turns[0]).body.text) if c.turns else None) for c in chats])  # type: ignore[union-attr]
            app._refresh_stats()
            await pilot.pause(0.2)
            written.append(Path(app.save_screenshot("main.svg", str(out_dir))))

            for chat in chats:
                await chat.cancel()  # type: ignore[union-attr]
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
        if SIMULATOR_KEY in path.read_text(encoding="utf-8"):
            raise RuntimeError(f"{path} shows an API key")
    return written


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
