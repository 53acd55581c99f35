"""Keys go to the tab on screen, from the first key after a tab opens or switches.

A fast typist (or a loaded machine, or tmux replaying keys) hands the app a burst of keys before it
has handled the first: here every key of the burst is queued in the driver before the app runs any
of them, which is the worst case and needs no wall-clock timing to reproduce.
"""

from __future__ import annotations

from typing import Any

from .conftest import SIZE, handled, make_app, post_key, wait_for


def queue_keys(app: Any, keys: list[str]) -> None:
    """Queue every key for the app at once, as a burst of terminal input is, before it handles any."""
    for key in keys:
        post_key(app, key)


def typed(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text] + ["enter"]


async def burst_handled(app: Any, tabs: int) -> bool:
    """Every key handled: a marker queued behind the burst has run on the app, then on every pump on
    a key's way to a prompt box (screen, tab, prompt) and back (a prompt's Submitted), twice over."""
    await handled(app)
    for _ in range(2):
        pumps = [app.screen, *(app.chats[t] for t in app.tab_ids), *(app.chats[t].prompt for t in app.tab_ids), app]
        for pump in pumps:
            await handled(pump)
    return len(app.tab_ids) == tabs


def prompts(app: Any) -> list[list[str]]:
    return [[turn.prompt for turn in app.chats[tab_id].turns] for tab_id in app.tab_ids]


async def test_keys_right_after_ctrl_t_land_in_the_new_tab(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE):
        await app.engine_ready.wait()
        burst: list[str] = []
        for n in range(2, 7):
            burst += ["ctrl+t", *typed(f"Tab {n} prompt")]
        queue_keys(app, burst)
        expected = [[]] + [[f"Tab {n} prompt"] for n in range(2, 7)]
        assert await burst_handled(app, 6)
        assert prompts(app) == expected
        assert app.focused is app.active_chat.prompt and app.active_chat is app.chats[app.tab_ids[-1]]


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
        assert await burst_handled(app, 4)
        assert prompts(app) == [[f"Tab {n} prompt"] for n in range(1, 5)]
        # the last Ctrl+PageDown wrapped to the first tab: its prompt has the focus
        await wait_for(pilot, lambda: app.tabs.active == app.tab_ids[0], what=f"back on tab 1 {app.tabs.active} {app.tab_ids}")
        assert app.focused is app.chats[app.tab_ids[0]].prompt


async def test_many_quick_ctrl_t_then_typing_goes_to_the_last_tab(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE):
        await app.engine_ready.wait()
        queue_keys(app, ["ctrl+t"] * 11 + typed("where am I"))
        assert await burst_handled(app, 12)
        assert len(app.tab_ids) == 12
        assert prompts(app)[-1] == ["where am I"]
        assert app.tabs.active == app.tab_ids[-1] and app.focused is app.active_chat.prompt
