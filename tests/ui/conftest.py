"""UI tests: the real app, the real pool and SDK, against a simulator started in the test's loop."""

from __future__ import annotations

import asyncio
import html
import re
import time
from typing import Any, AsyncIterator, Awaitable, Callable

import anthropic  # noqa: F401 - warm: the app imports the SDK in a thread at start; here that is instant
import pytest
from textual import events

from claude_tui.simulator import Simulator, SimulatorConfig
from claude_tui.ui.app import ClaudeTUI
from claude_tui.ui.launch import build_app

FAST: dict[str, Any] = dict(
    ttft_ms=50, tps=1500, reply_tokens=40, fixed_length=True, jitter=0.0, seed=11, rpm=0, itpm=0, otpm=0
)
SIZE = (140, 42)


@pytest.fixture
def sim_defaults() -> dict[str, Any]:
    return dict(FAST)


def make_app(sim: Simulator, **kwargs: Any) -> ClaudeTUI:
    """The app on this test's simulator (``claude_tui.ui.launch.build_app``: the one app builder)."""
    return build_app(sim.base_url, **kwargs)


async def wait_for(pilot: Any, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it holds; ``timeout`` only catches a hang (a busy 2-core CI needs seconds per tab)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def press(pilot: Any, *keys: str) -> None:
    """Like ``pilot.press`` but without its wait for the whole process to go idle.

    ``Pilot.press`` waits (up to 1 s, twice per key) until the process stops using CPU, which never
    happens while replies stream from the in-process simulator; here each key is posted to the app
    as the driver posts a real one, and we wait only until the screen has handled the queued messages.
    """
    app = pilot.app
    for key in keys:
        post_key(app, key)
        # key → app (its binding's action runs to the end, e.g. a tab mounted) → focused widget
        await handled(app)
        focused = app.focused
        if focused is not None:
            # the key, unless the widget used it, bubbles up parent by parent to the app's bindings
            for node in focused.ancestors_with_self:
                await handled(node)
        await _settle(app)


def post_key(app: Any, key: str) -> None:
    """A key from the terminal, queued for the app (what the driver does with one)."""
    char = " " if key == "space" else (key if len(key) == 1 else None)
    event = events.Key(key, char)
    event.set_sender(app)
    app.post_message(event)


async def handled(pump: Any, timeout: float = 30.0) -> None:
    """Wait until ``pump`` has handled every message queued before now (a marker queued behind them).

    The timeout is for a hang only: on a busy machine a key may take seconds, never minutes.
    """
    done = asyncio.Event()
    pump.call_later(done.set)
    deadline = time.monotonic() + timeout
    while not done.is_set():
        if not pump.is_running or not pump.is_attached:  # e.g. a dialog the key dismissed
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{pump!r} did not handle its messages within {timeout} s")
        try:
            await asyncio.wait_for(done.wait(), 0.05)
        except TimeoutError:
            pass


async def _settle(app: Any) -> None:
    """Wait until the app, its screen and the focused widget have handled what was queued before now.

    A fixed pause is not enough on a loaded machine: the key may still sit in a queue when the test
    looks. (Streaming replies keep other widgets busy; those are not waited for.)
    """
    for pump in (app, app.screen, app.focused):
        if pump is not None:
            await handled(pump)


def screen_text(app: Any) -> list[str]:
    """The screen's lines as the user sees them, read from Textual's own screenshot (public API).

    Each run of text in the SVG sits at its column (``x`` / the cell width); blank cells are not drawn.
    """
    svg = app.export_screenshot()
    cells = re.findall(r'<text[^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"[^>]*?-line-(\d+)\)"[^>]*>(.*?)</text>', svg, re.S)
    rows: dict[int, dict[int, str]] = {}
    width = None
    for x, length, number, raw in cells:
        text = html.unescape(re.sub(r"<[^>]+>", "", raw)).replace("\xa0", " ")
        if width is None and text:
            width = float(length) / len(text)
        rows.setdefault(int(number), {})[round(float(x) / (width or 1))] = text
    lines = []
    for number in range(max(rows) + 1 if rows else 0):
        line = ""
        for column, text in sorted(rows.get(number, {}).items()):
            line = line.ljust(column) + text
        lines.append(line.rstrip())
    return lines


async def type_text(pilot: Any, text: str) -> None:
    await press(pilot, *["space" if ch == " " else ch for ch in text])


async def send(pilot: Any, text: str) -> None:
    chat = pilot.app.active_chat
    chat.screen.set_focus(chat.prompt)  # now, not after the keys already queued (Widget.focus defers)
    chat.prompt.insert(text)
    await press(pilot, "enter")
