"""The tab row with many tabs: the active tab stays in view, a mark counts the tabs out of view on
each side, F4 finds a chat by a fuzzy match on its title, tabs are numbered by position only, and a
tab's tooltip explains its badges."""

from __future__ import annotations

from claude_tui.ui.screens.goto import GoToChatScreen
from claude_tui.ui.widgets.tab_strip import TabOverflow

from .conftest import make_app, press, send, type_text, wait_for


def _in_view(app, tab_id: str) -> bool:
    """The tab wholly inside the visible part of the scrolling tab row."""
    row = app.tabs.query_one("#tabs-scroll")
    tab = app.tabs.get_tab(tab_id)
    return row.scroll_x <= tab.virtual_region.x and tab.virtual_region.right <= row.scroll_x + row.size.width


async def test_many_tabs_keep_the_active_one_in_view_and_count_the_rest(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(13):
            await press(pilot, "ctrl+t")
        assert len(app._order) == 14
        overflow = app.query_one(TabOverflow)
        last = app._order[-1]
        # the mark is recounted on the refresh after the scroll: wait for both, not the scroll alone
        await wait_for(pilot, lambda: _in_view(app, last) and overflow.display and overflow.hidden[0] > 0 and overflow.hidden[1] == 0,
                       what="the last tab in view, the rest counted on the left")
        assert str(overflow.render()).endswith("F4")
        # one numbering scheme: the position (Alt+N), no creation counter in the title
        assert app.chats[app._order[1]].title == "new chat"
        assert app.tabs.get_tab(app._order[1]).label_text.startswith("2 ")
        await press(pilot, "alt+1")
        first = app._order[0]
        await wait_for(pilot, lambda: _in_view(app, first) and overflow.hidden == (0, overflow.hidden[1]) and overflow.hidden[1] > 0,
                       what="the first tab in view, the rest counted on the right")
        text = str(overflow.render())
        assert text.startswith(f"{overflow.hidden[1]}▸") and "◂" not in text
        await pilot.resize_terminal(300, 40)  # room for all 14 beside the panel: the mark goes away
        await wait_for(pilot, lambda: not overflow.display, what="no mark when every tab fits")


async def test_f4_goes_to_a_chat_by_a_fuzzy_title(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        titles = ["Rust lifetimes", "Retry loop with backoff", "Dinner ideas", "SQL window functions"]
        for i, title in enumerate(titles):
            if i:
                await press(pilot, "ctrl+t")
            app.active_chat.tab.title = title
        target = app._order[1]
        await press(pilot, "f4")
        await wait_for(pilot, lambda: isinstance(app.screen, GoToChatScreen))
        screen = app.screen
        assert screen.shown == app._order and screen.query_one("#goto-list").highlighted == 3  # the current tab
        await type_text(pilot, "rtry")
        await wait_for(pilot, lambda: screen.shown and screen.shown[0] == target, what="the fuzzy match first")
        assert app._order[2] not in screen.shown  # "Dinner ideas" does not match
        await press(pilot, "enter")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1 and app.tabs.active == target)
        assert app.focused is app.chats[target].prompt  # the keys go to the chat chosen
        await press(pilot, "f4")
        await wait_for(pilot, lambda: isinstance(app.screen, GoToChatScreen))
        await press(pilot, "escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)
        assert app.tabs.active == target


async def test_the_tab_tooltip_explains_the_badge(make_sim) -> None:
    sim = await make_sim(reply_tokens=100_000, tps=200)  # replies far longer than the test
    app = make_app(sim)
    async with app.run_test(size=(140, 30)) as pilot:
        chat = app.active_chat
        for prompt in ("first question", "second", "third"):
            await send(pilot, prompt)
        await wait_for(pilot, lambda: len(chat.tab.pending) == 2 and chat.tab.active is not None)
        tab = app.tabs.get_tab(chat.tab_id)
        await wait_for(pilot, lambda: "+2" in tab.label_text and tab.tooltip and "+2:" in str(tab.tooltip))
        tooltip = str(tab.tooltip)
        assert tooltip.startswith("first question\n") and "2 more prompts sent in this tab" in tooltip
        await press(pilot, "escape")


async def test_quit_and_restart_come_back_to_the_tab_left(make_sim, tmp_path) -> None:
    from claude_tui.store import HistoryStore

    db = tmp_path / "h.db"
    sim = await make_sim()
    store = HistoryStore.open(db)
    app = make_app(sim, store=store)
    async with app.run_test(size=(140, 30)) as pilot:
        for i, prompt in enumerate(("alpha", "beta", "gamma")):
            if i:
                await press(pilot, "ctrl+t")
            chat = app.active_chat
            await send(pilot, prompt)
            await wait_for(pilot, lambda: chat.turns and chat.turns[0].state == "done")
        await press(pilot, "alt+2")
        left = app.active_chat.conversation_id
    assert store.active_tab() == left
    store.close()

    store = HistoryStore.open(db)
    app = make_app(sim, store=store)
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.chats) == 3, what="tabs restored")
        await wait_for(pilot, lambda: app.active_chat.conversation_id == left, what="the tab left")
        assert app.active_chat.turns[0].prompt == "beta" and app._order.index(app.tabs.active) == 1
        assert app.focused is app.active_chat.prompt
        await press(pilot, "ctrl+w")  # close it: next time, no tab left to come back to → the first
    assert store.active_tab() != left
    store.close()
