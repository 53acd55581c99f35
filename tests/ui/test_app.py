"""The app against a real simulator over loopback: tabs, streaming, the shared pool, errors, cancel, keys."""

from __future__ import annotations

import asyncio

import pytest

from claude_tui.engine.job import Job

from .conftest import SIZE, make_app, press, send, type_text, wait_for


def last_turn(chat):
    return chat.turns[-1] if chat.turns else None


def turn_state(chat, state):
    return lambda: chat.turns and chat.turns[-1].state == state


async def test_send_streams_into_the_right_tab(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        first = app.active_chat
        await press(pilot, "ctrl+t")
        second = app.active_chat
        assert second is not first and len(app.chats) == 2
        await send(pilot, "hello from tab two")
        await wait_for(pilot, turn_state(second, "done"), what="reply in tab 2")
        assert not first.turns
        turn = second.turns[0]
        assert "hello from tab two" in turn.text
        assert second.reply(turn).body.text == turn.text
        assert "TTFT" in str(second.reply(turn).footer.render()) and "tokens out" in str(second.reply(turn).footer.render())
        assert "✓" in second.label()
        # The app talks to the simulator with the request it built: one user message.
        assert sim.stats.requests_total == 1


async def test_multi_turn_sends_whole_conversation(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "first question")
        await wait_for(pilot, turn_state(chat, "done"))
        await send(pilot, "second question")
        await wait_for(pilot, lambda: len(chat.turns) == 2 and chat.turns[1].state == "done")
        messages = chat.context_before(chat.turns[1])
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        assert messages[0]["content"] == "first question" and messages[2]["content"] == "second question"


async def test_three_tabs_with_limit_two_one_queued(make_sim):
    sim = await make_sim(tps=20, reply_tokens=100)
    sim.hold_replies(after_tokens=3)  # no reply can end before the third prompt is queued, however slow the machine
    app = make_app(sim, concurrency=2, stall_timeout=600)  # held replies send only pings
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        chats = [app.active_chat]
        for _ in range(2):
            await press(pilot, "ctrl+t")
            chats.append(app.active_chat)
        for index, chat in enumerate(chats):
            await press(pilot, f"alt+{index + 1}")
            assert app.active_chat is chat
            await send(pilot, f"prompt {index}")
        await wait_for(pilot, lambda: chats[2].state == "queued", what=f"third tab queued {[c.state for c in chats]}")
        status = chats[2].reply(chats[2].turns[0]).status
        await wait_for(pilot, lambda: "queued" in status.text, what="queued text")
        assert "ahead" in status.text or "next to start" in status.text
        assert chats[2].label().split()[0] == "◷"
        assert app.pool.in_flight == 2
        sim.release_replies()
        for chat in chats:
            await wait_for(pilot, turn_state(chat, "done"), timeout=60, what="all done")
        assert app.metrics.snapshot().done == 3


async def test_queued_prompt_in_same_tab_runs_after_previous(make_sim):
    sim = await make_sim(tps=100, reply_tokens=60)
    app = make_app(sim)
    app.engine_gate = asyncio.Event()  # the first reply cannot end before the second prompt is looked at
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "one")
        await send(pilot, "two")
        assert len(chat.turns) == 2
        assert chat.turns[1].state == "pending"
        await wait_for(pilot, lambda: "previous reply" in chat.reply(chat.turns[1]).status.text, what="waits for the previous reply")
        assert "+1" in chat.label()
        app.engine_gate.set()
        await wait_for(pilot, lambda: chat.turns[1].state == "done", timeout=30)
        assert chat.turns[0].state == "done"
        # the second request carried the first exchange
        assert [m["role"] for m in chat.context_before(chat.turns[1])] == ["user", "assistant", "user"]


async def test_rate_limit_countdown_then_reply(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        sim.inject("rate_limit", retry_after=1)
        await send(pilot, "please wait")
        await wait_for(pilot, lambda: chat.state == "backoff", what="backoff")
        status = chat.reply(chat.turns[0]).status
        await wait_for(pilot, lambda: status.remaining is not None and "retry" in status.text, what="the countdown")
        first_text, first = status.text, status.remaining
        await wait_for(pilot, lambda: status.text != first_text and status.remaining is not None
                       and status.remaining < first, what="the countdown moves")
        second_text, second = status.text, status.remaining
        # a paced 429 spends no attempt: the budget shown grows by one (5 + 1)
        assert "429" in first_text and "retry 2/6 in" in first_text
        assert first is not None and second is not None and second < first
        assert first_text != second_text  # the countdown on screen moves
        assert chat.label().split()[0] == "↻"
        await wait_for(pilot, turn_state(chat, "done"), what="reply after the retry")
        assert app.metrics.snapshot().rate_limited == 1
        assert "2 attempts" in str(chat.reply(chat.turns[0]).footer.render())
        # a 429 came before any text: nothing was interrupted, and the note says so
        assert "failed before any text (rate limit)" in str(chat.reply(chat.turns[0]).note.render())


async def test_stream_interrupted_retry_restarts_body(make_sim):
    sim = await make_sim(tps=400, reply_tokens=60)
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        sim.inject("disconnect", after_tokens=10)
        await send(pilot, "interrupt me")
        await wait_for(pilot, turn_state(chat, "done"), what="reply after a retry")
        reply = chat.reply(chat.turns[0])
        assert reply.note.display and "interrupted" in str(reply.note.render())
        assert reply.body.text == chat.turns[0].text


async def test_escape_cancels_and_keeps_partial_text(make_sim):
    sim = await make_sim(tps=40, reply_tokens=400)
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "long answer please")
        await wait_for(pilot, lambda: len(chat.reply(chat.turns[0]).body.text) > 20, what="some text")
        await press(pilot, "escape")
        await wait_for(pilot, turn_state(chat, "cancelled"), what="cancelled")
        turn = chat.turns[0]
        assert turn.text and chat.reply(turn).body.text.startswith(turn.text[:20])
        assert "cancelled" in str(chat.reply(turn).footer.render())
        assert chat.label().split()[0] == "■"
        assert app.metrics.snapshot().cancelled == 1


async def test_escape_cancels_queued_request(make_sim):
    sim = await make_sim(tps=40, reply_tokens=200)
    app = make_app(sim, concurrency=1)
    async with app.run_test(size=SIZE) as pilot:
        busy = app.active_chat
        await send(pilot, "occupy the pool")
        await press(pilot, "ctrl+t")
        chat = app.active_chat
        await send(pilot, "wait in line")
        await wait_for(pilot, lambda: chat.state == "queued")
        await press(pilot, "escape")
        await wait_for(pilot, turn_state(chat, "cancelled"), what="queued one cancelled")
        assert busy.state in ("waiting", "streaming")


async def test_authentication_error_shows_hint(make_sim):
    sim = await make_sim(api_keys=frozenset({"the-right-key"}))
    app = make_app(sim, api_key="a-wrong-key")
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "hi")
        await wait_for(pilot, turn_state(chat, "failed"), what="failed")
        text = str(chat.reply(chat.turns[0]).footer.render())
        assert "401" in text and "check ANTHROPIC_API_KEY" in text and "Ctrl+R" in text
        assert "a-wrong-key" not in text
        assert chat.label().split()[0] == "✗"


async def test_unknown_model_shows_hint_and_retry_key(make_sim):
    sim = await make_sim()
    app = make_app(sim, model="claude-nonexistent-9")
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "hi")
        await wait_for(pilot, turn_state(chat, "failed"))
        text = str(chat.reply(chat.turns[0]).footer.render())
        assert "404" in text and "unknown model" in text
        # pick a real model, then Ctrl+R retries the same turn
        app.set_model("claude-haiku-4-5")
        await press(pilot, "ctrl+r")
        await wait_for(pilot, turn_state(chat, "done"), what="retried reply")
        assert len(chat.turns) == 1


async def test_stats_panel_matches_snapshot(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        chat = app.active_chat
        for n in range(3):
            await send(pilot, f"q{n}")
        await wait_for(pilot, lambda: len(chat.turns) == 3 and chat.turns[-1].state == "done", timeout=15)
        app._refresh_stats()
        snap = app.stats_panel.last_snapshot
        fresh = app.metrics.snapshot()
        assert (snap.done, snap.failed, snap.input_tokens, snap.output_tokens) == (
            fresh.done, fresh.failed, fresh.input_tokens, fresh.output_tokens)
        pool_text = app.stats_panel.section_text("pool")
        assert f"done       {fresh.done}" in pool_text
        assert f"in flight  0 / {app.pool.limit}" in pool_text
        tokens = app.stats_panel.section_text("tokens")
        assert f"out {fresh.output_tokens}" in tokens and "estimate" in tokens
        latency = app.stats_panel.section_text("latency")
        assert "p50" in latency and "p99" in latency
        assert "q0" in app.stats_panel.section_text("tab")
        limits = app.stats_panel.section_text("limits")
        assert "requests" in limits


async def test_limit_change_while_running(make_sim):
    sim = await make_sim(tps=5, reply_tokens=400)  # 80 s a reply: all three still run when the limit rises
    app = make_app(sim, concurrency=1)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        chats = [app.active_chat]
        await send(pilot, "a")
        for _ in range(2):
            await press(pilot, "ctrl+t")
            chats.append(app.active_chat)
            await send(pilot, "b")
        await wait_for(pilot, lambda: app.pool.queued == 2)
        await press(pilot, "f8")
        await press(pilot, "ctrl+up")
        assert app.pool.limit == 3
        await wait_for(pilot, lambda: app.pool.in_flight == 3, what="three in flight")
        await wait_for(pilot, lambda: "in flight  3 / 3" in app.stats_panel.section_text("pool"), what="the panel refreshed")
        await press(pilot, "f7")
        assert app.pool.limit == 2
        app._refresh_stats()
        assert "/ 2" in app.stats_panel.section_text("pool")
        for chat in chats:
            chat.cancel_all_quietly()


async def test_prompt_box_keys(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        chat = app.active_chat
        box = chat.prompt
        # empty and whitespace prompts do nothing
        await press(pilot, "enter")
        await type_text(pilot, "   ")
        await press(pilot, "enter")
        assert not chat.turns and app.pool.queued == 0 and app.pool.in_flight == 0
        box.clear()
        # Ctrl+J inserts a newline; Enter sends both lines as one prompt
        await type_text(pilot, "line1")
        await press(pilot, "ctrl+j")
        await type_text(pilot, "line2")
        assert box.text == "line1\nline2"
        await press(pilot, "enter")
        assert box.text == ""
        assert chat.turns[0].prompt == "line1\nline2"
        await wait_for(pilot, turn_state(chat, "done"))
        await type_text(pilot, "second")
        await press(pilot, "enter")
        # Up recalls earlier prompts (app-wide), Down walks back to the draft
        await type_text(pilot, "draft")
        await press(pilot, "up")
        assert box.text == "second"
        await press(pilot, "up")
        assert box.text == "line1\nline2"
        await press(pilot, "down")
        await press(pilot, "down")
        assert box.text == "second"
        await press(pilot, "down")
        assert box.text == "draft"
        # the history is shared by tabs
        await press(pilot, "ctrl+t")
        await press(pilot, "up")
        assert app.active_chat.prompt.text == "second"


async def test_tab_keys(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await press(pilot, "ctrl+t")
        await wait_for(pilot, lambda: len(app.tab_ids) == 4, what="four tabs")
        ids = list(app.tab_ids)
        await wait_for(pilot, lambda: app.tabs.active == ids[3], what="the new tab active")
        # Each key's effect is awaited (not assumed after a fixed pause): a loaded machine may be slow.
        await press(pilot, "ctrl+pagedown")
        await wait_for(pilot, lambda: app.tabs.active == ids[0], what="next tab wraps to the first")
        await press(pilot, "ctrl+pageup")
        await wait_for(pilot, lambda: app.tabs.active == ids[3], what="previous tab wraps to the last")
        await press(pilot, "alt+2")
        await wait_for(pilot, lambda: app.tabs.active == ids[1], what="alt+2 jumps to tab 2")
        await wait_for(pilot, lambda: app.focused is app.chats[ids[1]].prompt, what="its prompt focused")
        await press(pilot, "ctrl+w")
        await wait_for(pilot, lambda: ids[1] not in app.chats and len(app.tab_ids) == 3, what="tab 2 closed")
        assert str(app.tabs.get_tab(app.tab_ids[1]).label).startswith("2 ")  # labels renumbered
        for _ in range(3):
            await press(pilot, "ctrl+w")
        await wait_for(pilot, lambda: len(app.tab_ids) == 1, what="closing the last tab opens a fresh one")
        await pilot.pause(0.2)
        assert len(app.tab_ids) == 1


async def test_copy_and_export(make_sim, tmp_path, monkeypatch):
    sim = await make_sim()
    app = make_app(sim)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "write code")
        await wait_for(pilot, turn_state(chat, "done"))
        await press(pilot, "ctrl+o")
        assert copied and copied[-1] == chat.turns[0].text
        path = app.export_chat(chat, tmp_path)
        assert path is not None and path.parent == tmp_path
        text = path.read_text()
        assert "## You" in text and "write code" in text and chat.turns[0].text.strip()[:30] in text


async def test_pool_closed_on_exit(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        pool = app.pool
        assert pool is not None
    assert app.pool is None and pool.closed


async def test_prompt_sent_before_the_engine_is_ready_waits_then_streams(make_sim):
    sim = await make_sim()
    app = make_app(sim)
    app.engine_gate = asyncio.Event()  # hold the pool back, as a slow SDK import would
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "typed at once")
        await wait_for(pilot, lambda: chat.turns and chat.turns[0].state == "queued", what="the prompt waits")
        assert app.pool is not None and not app.pool.client_ready and app.pool.queued == 1
        assert sim.stats.requests_total == 0
        assert chat.turns[0].state == "queued"
        app.engine_gate.set()
        await wait_for(pilot, turn_state(chat, "done"), what="reply once the engine is up")
        assert "typed at once" in chat.turns[0].text and sim.stats.requests_total == 1


async def test_thinking_blocks_shown_collapsed_and_dimmed(make_sim):
    sim = await make_sim()
    app = make_app(sim, thinking_budget=1024)
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "think first")
        await wait_for(pilot, turn_state(chat, "done"), what="reply with thinking")
        reply = chat.reply(chat.turns[0])
        assert reply.thinking  # the simulator streamed a thinking block first
        box = reply.thinking_box
        assert box is not None and box.collapsed and box.title == "thinking"
        assert box.has_class("thinking")
        assert reply.thinking not in reply.body.text  # thinking is kept apart from the answer
        # dimmed: drawn in the theme's muted colour (and italic), not the answer's colour
        assert reply.thinking_view.rich_style.color != reply.body.rich_style.color
        assert reply.thinking_view.rich_style.italic


async def test_the_tuis_jobs_get_the_same_request_log_lines_as_run(make_sim):
    """The request log is a pool listener fed by the pool's events, as in `run`: submitted … done."""
    import logging

    from claude_tui.logs import RequestLogger
    from claude_tui.services import Services

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("claude_tui.test_requests")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(Keep())
    sim = await make_sim()
    app = make_app(sim, services=Services(request_logger=RequestLogger(logger)))
    async with app.run_test(size=SIZE) as pilot:
        chat = app.active_chat
        await send(pilot, "log me")
        await wait_for(pilot, turn_state(chat, "done"), what="the reply")
    job_id = chat.turns[0].job_id
    assert any(line.startswith(f"job={job_id} submitted model=claude-sonnet-4-6 max_tokens=512") for line in lines), lines
    assert any(line.startswith(f"job={job_id} status=done") for line in lines), lines


async def test_the_app_is_paced_by_the_same_rate_budget_as_run(make_sim):
    """services.open_pool builds the app's pool as it builds run's: with [limits], the budget paces the
    tabs, and a held request shows its countdown (⧗ …) until the budget has room."""
    from claude_tui.config import LimitSettings

    sim = await make_sim()
    app = make_app(sim, limits=LimitSettings(rpm=60, slow_start=False, burst_seconds=1.0))  # one request a second
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        assert app.pool is not None and app.pool.budget is not None
        chats = [app.active_chat]
        for _ in range(2):
            chats.append(await app.new_tab())
        for index, chat in enumerate(chats):
            chat.send(f"paced prompt {index}")
        held = await wait_for(pilot, lambda: next((c for c in chats if c.state == "throttled"), None), what="a held request")
        status = held.reply(held.turns[0]).status
        await wait_for(pilot, lambda: status.text.startswith("⧗ waiting for request budget — "), what="the countdown")
        assert held.label().split()[0] == "⧗"
        for chat in chats:
            await wait_for(pilot, turn_state(chat, "done"), timeout=60, what="every paced reply")
