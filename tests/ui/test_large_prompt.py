"""A 2 MB paste: sent at once, shown in part, the UI loop never stuck while it goes."""

from __future__ import annotations

import asyncio
import threading
import time

from .conftest import SIZE, make_app, press, wait_for


class LoopWatchdog:
    """A thread that asks the loop to answer (``call_soon_threadsafe``) and records the longest wait.

    A stuck loop is what a user sees as a frozen app: keys ignored, nothing drawn.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, every: float = 0.05) -> None:
        self.loop = loop
        self.every = every
        self.longest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            answered = threading.Event()
            asked = time.monotonic()
            self.loop.call_soon_threadsafe(answered.set)
            while not answered.wait(0.5) and not self._stop.is_set():
                self.longest = max(self.longest, time.monotonic() - asked)
            self.longest = max(self.longest, time.monotonic() - asked)
            self._stop.wait(self.every)

    def __enter__(self) -> "LoopWatchdog":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


async def test_huge_prompt_is_sent_at_once_and_shown_in_part(make_sim):
    sim = await make_sim()
    app = make_app(sim, model="claude-haiku-4-5")  # a 200K context window (Sonnet 4.6 has 1M)
    prompt = ("lorem ipsum dolor sit amet " * 40 + "\n") * 2000  # 2.2 MB, 540k tokens: the API says 400
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        chat = app.active_chat
        chat.prompt.load_text(prompt)
        with LoopWatchdog(asyncio.get_running_loop()) as watchdog:
            await press(pilot, "enter")
            await wait_for(pilot, lambda: chat.turns and chat.turns[0].state == "failed", timeout=60, what="the 400")
        turn = chat.turns[0]
        assert turn.prompt == prompt.strip("\n")  # sent whole
        shown = str(chat.user(turn).render())
        assert len(shown) < 10_000 and f"shown in part: {len(turn.prompt):,} characters" in shown
        assert "400" in turn.error and "prompt is too long" in turn.error
        assert sim.stats.requests_total == 1  # no spurious timeout retry before the 400
        # a bound for a hang, not a pace: before the fix the loop was stuck for 19 s in one go
        assert watchdog.longest < 5.0, f"the UI loop did not answer for {watchdog.longest:.1f} s"
