"""The key help screen (F1, ``?`` outside the prompt) lists the app's own keys by area, read from its
bindings, and closes with Esc; Textual's generic "Keys" panel closes with Esc; the footer shows what
applies now (Cancel while something runs, Retry after a failure)."""

from __future__ import annotations

from textual import events

from claude_tui.ui.app import ClaudeTUI
from claude_tui.ui.screens.help import KeyHelpScreen, key_label

from .conftest import SIZE, handled, make_app, press, send, wait_for


async def _type_question_mark(pilot) -> None:
    """A real "?" key: Textual names it question_mark and carries the character."""
    app = pilot.app
    event = events.Key("question_mark", "?")
    event.set_sender(app)
    app._driver.send_message(event)
    await handled(app)
    if app.focused is not None:
        for node in app.focused.ancestors_with_self:
            await handled(node)
    await handled(app.screen)


def _help_text(screen: KeyHelpScreen) -> str:
    from rich.console import Console

    console = Console(width=200, record=True)
    for area, rows in screen.rows.items():
        console.print(area)
        for keys, words in rows:
            console.print(f"{keys}  {words}")
    return console.export_text()


async def test_f1_lists_every_app_key_by_area_and_esc_closes_it(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f1")
        await wait_for(pilot, lambda: isinstance(app.screen, KeyHelpScreen))
        screen = app.screen
        text = _help_text(screen)
        # every binding of the app's own shows, with its key (read from BINDINGS, not a copy)
        for binding in ClaudeTUI.BINDINGS:
            if binding.action.startswith("goto_tab"):
                continue
            assert key_label(binding.key) in text, binding.key
        assert "Alt+1…9  jump to tab N" in text
        assert "F7 / Ctrl+Down  lower the concurrency limit" in text
        assert "Ctrl+Q  quit" in text and "Ctrl+P  command palette" in text
        assert "Enter  send" in text
        assert set(screen.rows) >= {"Prompt", "Tabs", "Requests", "View", "Copy", "App"} and "Other" not in screen.rows
        await press(pilot, "escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)
        assert not app.active_chat.turns  # Esc closed the help, nothing else

        # "?" types into the prompt; outside it, it opens the help
        chat = app.active_chat
        await _type_question_mark(pilot)
        assert chat.prompt.text == "?" and len(app.screen_stack) == 1
        chat.prompt.clear()
        app.screen.set_focus(None)
        await _type_question_mark(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, KeyHelpScreen))
        await press(pilot, "escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)


async def test_textual_keys_panel_closes_with_esc(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        app.action_show_help_panel()  # the palette's "Keys"
        await wait_for(pilot, lambda: app.screen.query("HelpPanel"))
        await press(pilot, "escape")
        await wait_for(pilot, lambda: not app.screen.query("HelpPanel"), what="the Keys panel closed")


async def test_the_footer_shows_cancel_only_while_something_runs(make_sim) -> None:
    sim = await make_sim(reply_tokens=100_000, tps=200)  # a reply far longer than the test
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat

        def shown() -> set[str]:
            return {ab.binding.action for ab in app.screen.active_bindings.values() if ab.binding.show and ab.enabled}

        assert "help" in shown() and "cancel_request" not in shown()
        await send(pilot, "hello")
        await wait_for(pilot, lambda: chat.busy and "cancel_request" in shown(), what="Cancel in the footer")
        await press(pilot, "escape")
        await wait_for(pilot, lambda: not chat.busy and "cancel_request" not in shown(), what="Cancel gone")
