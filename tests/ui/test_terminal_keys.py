"""Alt+1…9 as xterm, tmux and most SSH terminals send them: ESC then the digit.

The bytes go through Textual's own input parser (the one the Linux driver runs), so the test sees
the key the app would see in a real terminal.
"""

from __future__ import annotations

import time

import pytest
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser

from claude_tui.backend import Backend
from claude_tui.ui import keys
from claude_tui.ui.app import ClaudeTUI

from .conftest import SIZE, make_app, wait_for
from .test_focus import queue_keys


#: Textual's table as shipped (read at collection, before any app was built in this process).
SHIPPED = {sequence: ANSI_SEQUENCES_KEYS.get(sequence) for sequence in keys.ESC_DIGITS}


@pytest.fixture(autouse=True)
def shipped_key_table():
    """Each test starts from Textual's table as shipped: only the app may change it."""
    ANSI_SEQUENCES_KEYS.update({s: v for s, v in SHIPPED.items() if v is not None})  # type: ignore[attr-defined]
    yield


def parse(data: str) -> list[tuple[str, str | None]]:
    parser = XTermParser()
    out = list(parser.feed(data))
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not out:  # a lone ESC waits ESCDELAY for what follows
        out += list(parser.tick())
    return [(event.key, event.character) for event in out if hasattr(event, "key")]


def test_escape_digit_reads_as_alt_digit() -> None:
    ClaudeTUI(Backend(api_key="k", base_url="http://127.0.0.1:9", simulated=True), model="m", max_tokens=1,
              system=None, concurrency=1, policy=None, stall_timeout=None)  # type: ignore[arg-type]
    for digit in "123456789":
        assert parse("\x1b" + digit) == [(f"alt+{digit}", digit)]
    # typed straight after, the next keys stay plain keys
    assert parse("\x1b2ab") == [("alt+2", "2"), ("a", "a"), ("b", "b")]
    # a character typed as itself (macOS Option+1 without "Option as Meta") is still text
    assert parse("¡") == [("inverted_exclamation_mark", "¡")]


async def test_alt_digit_bytes_jump_to_the_tab(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(2):
            await app.new_tab()
        for digit in "213":
            queue_keys(app, [key for key, _ in parse("\x1b" + digit)])
            await wait_for(pilot, lambda: app.tabs.active == app.tab_ids[int(digit) - 1], what=f"alt+{digit} jumps")
            assert app.focused is app.active_chat.prompt and app.active_chat.prompt.text == ""
