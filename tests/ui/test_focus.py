"""Keys go to the tab on screen, from the first key after a tab opens or switches.

A fast typist (or a loaded machine, or tmux replaying keys) hands the app a burst of keys before it
has handled the first: here every key of the burst is queued in the driver before the app runs any
of them, which is the worst case and needs no wall-clock timing to reproduce.
"""

from __future__ import annotations

from typing import Any

from textual import events

from .conftest import SIZE, make_app, wait_for


def queue_keys(app: Any, keys: list[str]) -> None:
    """Hand every key to the driver at once, as a burst of terminal input is."""
    for key in keys:
        char = " " if key == "space" else (key if len(key) == 1 else None)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


def typed(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text] + ["enter"]


def burst_handled(app: Any, tabs: int) -> bool:
    """Every key handled: the tabs exist and no queue on the way to a prompt box holds anything."""
    if len(app._order) != tabs:
        return False
    pumps = [app, app.screen, *(app.chats[tab_id] for tab_id in app._order), *(app.chats[t].prompt for t in app._order)]
    return all(pump._message_queue.empty() for pump in pumps)


def prompts(app: Any) -> list[list[str]]:
    return [[turn.prompt for turn in app.chats[tab_id].turns] for tab_id in app._order]


async def test_keys_right_after_ctrl_t_land_in_the_new_tab(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        burst: list[str] = []
        for n in range(2, 7):
            burst += ["ctrl+t", *typed(f"Tab {n} prompt")]
        queue_keys(app, burst)
        expected = [[]] + [[f"Tab {n} prompt"] for n in range(2, 7)]
        await wait_for(pilot, lambda: burst_handled(app, 6), what="the burst handled", timeout=90)
        assert prompts(app) == expected
        assert app.focused is app.active_chat.prompt and app.active_chat is app.chats[app._order[-1]]


async def test_keys_right_after_ctrl_pagedown_land_in_the_tab_shown(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        for _ in range(3):
            await app.new_tab()
        await app.run_action("goto_tab(1)")
        burst: list[str] = []
        for n in range(1, 5):
            burst += [*typed(f"Tab {n} prompt"), "ctrl+pagedown"]
        queue_keys(app, burst)
        await wait_for(pilot, lambda: burst_handled(app, 4) and sum(map(len, prompts(app))) >= 3, what="the burst handled", timeout=90)
        assert prompts(app) == [[f"Tab {n} prompt"] for n in range(1, 5)]
        # the last Ctrl+PageDown wrapped to the first tab: its prompt has the focus
        await wait_for(pilot, lambda: app.tabs.active == app._order[0], what=f"back on tab 1 {app.tabs.active} {app._order}")
        assert app.focused is app.chats[app._order[0]].prompt


async def test_many_quick_ctrl_t_then_typing_goes_to_the_last_tab(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        queue_keys(app, ["ctrl+t"] * 11 + typed("where am I"))
        await wait_for(pilot, lambda: burst_handled(app, 12) and any(prompts(app)), what="the burst handled", timeout=90)
        assert len(app._order) == 12
        assert prompts(app)[-1] == ["where am I"]
        assert app.tabs.active == app._order[-1] and app.focused is app.active_chat.prompt
