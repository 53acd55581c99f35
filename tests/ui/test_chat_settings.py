"""Each chat is its own: model, system prompt, max tokens and thinking per chat, shown in its header,
edited in one screen (F6), kept with the conversation and sent with it after a restart."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, Switch, TextArea

from claude_tui.store import HistoryStore
from claude_tui.ui.chat_settings import ChatSettings, check_max_tokens, check_thinking_budget, with_thinking
from claude_tui.ui.screens.chat_settings import ChatSettingsScreen

from .conftest import SIZE, make_app, press, screen_text, send, wait_for

TERSE = "You are a terse assistant.\nAnswer in one line."


def done(chat, n: int):
    return lambda: len(chat.turns) >= n and chat.turns[n - 1].state == "done"


async def open_settings(pilot) -> ChatSettingsScreen:
    await press(pilot, "f6")
    return await wait_for(pilot, lambda: pilot.app.screen if isinstance(pilot.app.screen, ChatSettingsScreen) else None,
                          what="the chat settings screen")


# -- the settings themselves (no app) -------------------------------------------------------------
def test_header_line_names_model_max_thinking_and_the_system_prompt_as_such() -> None:
    s = ChatSettings(model="claude-haiku-4-5", max_tokens=4096, system=TERSE, thinking_budget=2048)
    assert s.header() == 'claude-haiku-4-5 · max 4,096 · thinking 2k · system: "You are a terse assistant. Answer in one line."'
    assert ChatSettings(model="m", max_tokens=512).header() == "m · max 512 · no system prompt"


def test_checks_follow_the_api_rules() -> None:
    assert check_max_tokens("4,096", "claude-sonnet-4-6") is None
    assert "from 1 to 128,000" in (check_max_tokens("200000", "claude-sonnet-4-6") or "")
    assert check_max_tokens("0", "claude-sonnet-4-6") and check_max_tokens("lots", "m")
    assert "at least 1,024" in (check_thinking_budget("1000", 4096) or "")
    assert "below max tokens" in (check_thinking_budget("4096", 4096) or "")
    assert check_thinking_budget("2048", 4096) is None
    on = with_thinking(ChatSettings(max_tokens=512), True)
    assert on.thinking_budget == 1024 and on.max_tokens > 1024  # the API wants budget < max_tokens
    assert with_thinking(on, False).thinking_budget is None


# -- the app ---------------------------------------------------------------------------------------
async def test_settings_screen_refuses_bad_numbers_and_esc_changes_nothing(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = app.active_chat
        before = chat.settings
        screen = await open_settings(pilot)
        screen.query_one("#cs-max-tokens", Input).value = "0"
        await press(pilot, "ctrl+s")
        assert app.screen is screen  # not dismissed
        assert "max tokens: a whole number from 1 to 128,000" in str(screen.query_one("#cs-error").render())
        assert app.focused is screen.query_one("#cs-max-tokens")
        # thinking on with a budget not below max tokens: refused too
        screen.query_one("#cs-max-tokens", Input).value = "2000"
        screen.query_one("#cs-thinking", Switch).value = True
        screen.query_one("#cs-budget", Input).value = "4000"
        await press(pilot, "ctrl+s")
        assert app.screen is screen and "below max tokens" in str(screen.query_one("#cs-error").render())
        await press(pilot, "escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, what="Esc closes it")
        assert chat.settings == before


async def test_header_fits_80_columns_on_one_line(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, system="You are a meticulous reviewer of Python code who explains every finding in depth.")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.active_chat is not None and app.active_chat.header.region.width > 0, what="header")
        lines = screen_text(app)
        header = next(line for line in lines if "claude-sonnet-4-6 · max 512" in line)
        assert 'system: "You are a meticulous' in header and header.rstrip().endswith("F6 settings")
        assert len(header) <= 80 and "…" in header  # clipped, not wrapped
        assert app.active_chat.header.region.height == 1


async def test_per_chat_settings_survive_a_restart_and_are_sent(make_sim, tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    sim = await make_sim()
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        first = app.active_chat
        await send(pilot, "one")
        await wait_for(pilot, done(first, 1), what="chat 1's reply")
        await press(pilot, "ctrl+t")
        second = app.active_chat
        assert second is not first and second.settings == first.settings == app.defaults
        await send(pilot, "two")  # the conversation exists before its settings change: saved on change
        await wait_for(pilot, done(second, 1), what="chat 2's reply")
        screen = await open_settings(pilot)
        screen.query_one("#cs-model", Select).value = "claude-haiku-4-5"
        screen.query_one("#cs-system", TextArea).text = TERSE
        screen.query_one("#cs-max-tokens", Input).value = "3000"
        screen.query_one("#cs-thinking", Switch).value = True
        screen.query_one("#cs-budget", Input).value = "2048"
        await press(pilot, "ctrl+s")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, what="saved")
        assert second.settings == ChatSettings("claude-haiku-4-5", 3000, TERSE, 2048)
        assert first.settings == app.defaults
        assert 'claude-haiku-4-5 · max 3,000 · thinking 2k · system: "You are a terse' in str(second.header.settings_line.render())
        assert app.model == "claude-haiku-4-5"  # the shown chat's, in the title bar and status line
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, what="quit")
    assert [(r.model, r.max_tokens) for r in sim.request_log] == [("claude-sonnet-4-6", 512)] * 2

    sim2 = await make_sim()
    app2 = make_app(sim2, store=store)
    async with app2.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app2.tab_ids) == 2 and all(app2.chats[t].turns for t in app2.tab_ids), what="both tabs back")
        one, two = (app2.chats[t] for t in app2.tab_ids)
        assert one.settings == app2.defaults  # chat 1 keeps the defaults
        assert two.settings == ChatSettings("claude-haiku-4-5", 3000, TERSE, 2048)
        assert "claude-haiku-4-5 · max 3,000" in str(two.header.settings_line.render())
        app2.show_tab(two.tab_id)
        await send(pilot, "three")
        await wait_for(pilot, done(two, 2), what="chat 2's next reply")
        app2.show_tab(one.tab_id)
        await send(pilot, "four")
        await wait_for(pilot, done(one, 2), what="chat 1's next reply")
    sent_two, sent_one = sim2.request_log
    assert (sent_two.model, sent_two.max_tokens, sent_two.system, sent_two.thinking_budget) == ("claude-haiku-4-5", 3000, TERSE, 2048)
    assert (sent_one.model, sent_one.max_tokens, sent_one.system, sent_one.thinking_budget) == ("claude-sonnet-4-6", 512, None, None)
    store.close()


async def test_settings_set_before_the_first_prompt_are_stored_with_the_new_conversation(make_sim, tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    sim = await make_sim()
    app = make_app(sim, store=store)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        app.set_model("claude-haiku-4-5")  # the palette's "Model…" acts on the shown chat
        app.action_toggle_thinking()  # so does "Extended thinking on/off"
        await send(pilot, "hello")
        await wait_for(pilot, done(chat, 1), what="the reply")
        assert sim.request_log[0].model == "claude-haiku-4-5" and sim.request_log[0].thinking_budget == 1024
        assert chat.turns[0].thinking  # thinking streamed
    (conv,) = store.list_conversations()
    stored = store.chat_settings(conv.id)
    assert stored is not None and (stored.model, stored.max_tokens, stored.thinking_budget) == ("claude-haiku-4-5", 2048, 1024)

    # reopened from history (F3's path) it has them back
    app2 = make_app(sim, store=store)
    async with app2.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app2.active_chat is not None and app2.active_chat.turns, what="restored")
        await app2.close_tab(app2.active_chat.tab_id)
        assert app2.active_chat.settings == app2.defaults  # the fresh tab
        chat2 = await app2.open_conversation(conv.id)
        assert chat2 is not None and chat2.settings == ChatSettings("claude-haiku-4-5", 2048, None, 1024)
    store.close()
