"""Snapshot tests of the main layouts (pytest-textual-snapshot).

Deterministic by construction: the simulator runs with a seed, fixed reply length and no jitter, every
snapshot waits for replies to finish, the stats panel is only shown idle, and the one live-timing line
(the reply footer's TTFT / total / tok/s) is normalised before the shot. Update with
``pytest tests/ui/test_snapshots.py --snapshot-update`` after an intended change.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Iterator

import pytest

from claude_tui.backend import SIMULATOR_KEY
from claude_tui.engine.retry import RetryPolicy
from claude_tui.simulator import SimulatorConfig, start_in_thread
from claude_tui.ui.app import ClaudeTUI
from claude_tui.ui.launch import build_app

SIZE = (140, 42)
CONFIG = dict(ttft_ms=20, tps=0, reply_tokens=120, fixed_length=True, jitter=0.0, seed=5, rpm=0, itpm=0, otpm=0)


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    handle = start_in_thread(SimulatorConfig(**CONFIG, api_keys=frozenset({SIMULATOR_KEY})))
    yield handle
    handle.stop()


def build(sim: Any, *, show_stats: bool | None = False, **kwargs: Any) -> ClaudeTUI:
    return build_app(sim.base_url, show_stats=show_stats, policy=RetryPolicy(max_attempts=2, base=0.01, cap=0.02), **kwargs)


_TIMING = re.compile(r"TTFT [^·]+·\s*total [^·]+·(\s*[^·]+tokens out\s*·)\s*[^·]+tok/s")


async def settle(pilot: Any, *prompts: str) -> None:
    app: ClaudeTUI = pilot.app
    chat = app.active_chat
    assert chat is not None
    for prompt in prompts:
        chat.send(prompt)
    deadline = time.monotonic() + 15
    while chat.busy or any(t.state not in ("done", "failed", "cancelled") for t in chat.turns):
        assert time.monotonic() < deadline, "replies did not finish"
        await asyncio.sleep(0.05)
    for turn in chat.turns:
        footer = chat.reply(turn).footer
        footer.update(_TIMING.sub(r"TTFT · total ·\1 tok/s", str(footer.render())))
    chat.prompt.blur()
    await pilot.pause(0.1)


def test_snapshot_idle_with_stats(snap_compare: Any, sim: Any) -> None:
    async def run_before(pilot: Any) -> None:
        # A blinking cursor makes the frame depend on when it is taken (a busy CI caught the "off" half).
        prompt = pilot.app.active_chat.prompt
        prompt.cursor_blink = False
        await pilot.pause()

    assert snap_compare(build(sim, show_stats=True), terminal_size=SIZE, run_before=run_before)


def test_snapshot_finished_reply(snap_compare: Any, sim: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot, "Explain backoff with jitter", "And show a code example")

    assert snap_compare(build(sim), terminal_size=SIZE, run_before=run_before)


def test_snapshot_authentication_error(snap_compare: Any, sim: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot, "hello?")

    assert snap_compare(build(sim, api_key="wrong-key"), terminal_size=SIZE, run_before=run_before)


def test_snapshot_light_theme_narrow(snap_compare: Any, sim: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await pilot.app.new_tab()
        await settle(pilot, "A short question")

    assert snap_compare(build(sim, theme="claude-light", show_stats=None), terminal_size=(90, 30), run_before=run_before)
