"""Snapshots of one restored conversation at four terminal sizes, and the stats overlay at 80×24.

Deterministic: the conversation comes from a history database (no request is sent, so the stats
panel is idle), and the prompt box is blurred (no cursor). Update with
``pytest tests/ui/test_layout_snapshots.py --snapshot-update`` after an intended change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from claude_tui.engine.retry import RetryPolicy
from claude_tui.store import HistoryStore
from claude_tui.ui.app import ClaudeTUI
from claude_tui.ui.launch import build_app

PROMPT = "Show me a retry loop with exponential backoff and jitter in Python"
REPLY = """Retry with **exponential backoff**: wait longer after each failure, and add random jitter so
many clients that failed together do not all come back at the same moment.

```python
import random, time

def call_with_retries(fn, attempts=5, base=0.5, cap=30.0):
    for attempt in range(attempts):
        try:
            return fn()
        except TransientError:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, min(cap, base * 2 ** attempt)))
```

- `base` is the first wait; each attempt doubles it, up to `cap`.
- *Full jitter* (a uniform draw below the cap) spreads the retries out best.
"""


@pytest.fixture
def history(tmp_path: Path) -> Any:
    store = HistoryStore.open(tmp_path / "h.db")
    yield store
    store.close()


def build(store: HistoryStore) -> ClaudeTUI:
    cid = store.create_conversation("Retry loop with backoff", "claude-sonnet-4-6")
    store.add_user_message(cid, PROMPT)
    store.add_assistant_message(cid, REPLY)
    store.set_open_tabs([cid])
    return build_app("http://127.0.0.1:9", store=store, show_stats=None,  # nothing is sent
                     policy=RetryPolicy(max_attempts=2, base=0.01, cap=0.02))


async def _restored(pilot: Any) -> None:
    app = pilot.app
    await pilot.wait_for_scheduled_animations()
    while not (app.active_chat is not None and app.active_chat.turns and app.active_chat.reply(app.active_chat.turns[0]).body.text):
        await pilot.pause(0.02)  # the restored reply renders (a hang is caught by pytest's own timeout)
    app.active_chat.prompt.blur()
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 45), (220, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout(snap_compare: Any, history: HistoryStore, size: tuple[int, int]) -> None:
    assert snap_compare(build(history), terminal_size=size, run_before=_restored)


def test_layout_80x24_stats_overlay(snap_compare: Any, history: HistoryStore) -> None:
    async def run_before(pilot: Any) -> None:
        await _restored(pilot)
        pilot.app.action_toggle_stats()  # F2: over the chat, which keeps its width
        await pilot.pause(0.1)

    assert snap_compare(build(history), terminal_size=(80, 24), run_before=run_before)
