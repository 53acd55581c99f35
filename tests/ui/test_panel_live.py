"""The panel tells the truth at a glance, and while a reply streams: live "this tab" figures, live
thinking, rate-limit bars that fill as the limit is used, and lines that never wrap a unit away."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from claude_tui.engine.events import RateLimitSnapshot
from claude_tui.engine.metrics import Metrics
from claude_tui.ui.widgets.stats_panel import WIDTH, limit_lines

from .conftest import SIZE, make_app, screen_text, send, wait_for


async def test_this_tab_figures_move_while_the_reply_streams(make_sim) -> None:
    sim = await make_sim(reply_tokens=200)
    app = make_app(sim, stall_timeout=600)  # a held reply sends only pings
    sim.hold_replies(after_tokens=30)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        chat = app.active_chat
        await send(pilot, "Tell me about pools")
        turn = chat.turns[0]
        await wait_for(pilot, lambda: turn.state == "streaming" and len(turn.text) > 40, what="a reply streaming")
        app._refresh_stats()
        tab = app.stats_panel.section_text("tab")
        match = re.search(r"now +≈(\d+) tok · (\d+|—) tok/s · ([\d.]+) s", tab)
        assert match, tab  # before the reply ends: tokens so far, rate, elapsed
        assert int(match.group(1)) > 0
        sim.release_replies()
        await wait_for(pilot, lambda: turn.state == "done", what="the reply")
        app._refresh_stats()
        assert "now" not in app.stats_panel.section_text("tab")  # the finished figures take over


async def test_thinking_streams_into_its_collapsed_block(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, thinking_budget=1024, stall_timeout=600)
    sim.hold_replies(after_tokens=-3)  # stop 3 tokens before the thinking ends: mid-thought, no answer yet
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        chat = app.active_chat
        await send(pilot, "Think about queues")
        turn = chat.turns[0]
        reply = chat.reply(turn)
        await wait_for(pilot, lambda: reply.thinking_view is not None and len(str(reply.thinking_view.render())) > 20,
                       what="thinking on screen")
        box = reply.thinking_box
        assert box is not None and box.collapsed and not reply.body.text and turn.state != "done"
        partial = str(reply.thinking_view.render())
        box.collapsed = False  # expand it to watch
        await pilot.pause()
        words = partial.split()[:3]
        assert any(" ".join(words) in line for line in screen_text(app)), "the thinking so far is on screen"
        sim.release_replies()
        await wait_for(pilot, lambda: turn.state == "done", what="the reply")
        final = str(reply.thinking_view.render())
        assert final.startswith(partial) and len(final) > len(partial)  # it kept arriving in the same block


def test_rate_limit_bars_fill_as_the_bucket_is_used_under_headers_that_align() -> None:
    snap = Metrics().snapshot()

    def lines(requests_remaining: int, tokens_remaining: int, capacity: dict[str, int]) -> list[str]:
        rl = RateLimitSnapshot(requests_limit=600, requests_remaining=requests_remaining, requests_reset=1_000_012.0,
                               tokens_limit=400_000, tokens_remaining=tokens_remaining, tokens_reset=1_000_000.4)
        return limit_lines(replace(snap, last_rate_limits=rl), now_epoch=1_000_000.0, capacity=capacity)

    capacity: dict[str, int] = {}
    idle = lines(50, 400_000, capacity)  # a full bucket (the simulator's holds 5 s of refill: 50 of 600/min)
    assert idle[1].startswith("requests  ░░░░░░░░   0%     600   12\u00a0s")  # nothing used: an empty bar
    busy = lines(35, 100_000, capacity)
    header, requests, tokens = busy
    assert requests.startswith("requests  ██░░░░░░  30%     600")  # 15 of the bucket's 50 used: 30 %
    assert tokens.startswith("tokens    ██████░░  75%  400.0k")
    for column in ("used", "/min", "reset"):  # each header sits over its column
        at = header.index(column)
        assert requests[at:at + len(column)].strip() and tokens[at:at + len(column)].strip(), column
    assert header.index("reset") + len("reset") == len(requests) == len(tokens)  # right-aligned, same edge
    assert all(len(line) <= WIDTH for line in busy)


async def _panel_lines(app: Any, pilot: Any) -> list[str]:
    panel = app.stats_panel
    await pilot.pause()
    panel.scroll_to(y=panel._sections["limits"].virtual_region.y - 1, animate=False, immediate=True)
    await pilot.pause()
    return screen_text(app)


async def test_the_reset_unit_never_wraps_onto_its_own_line(make_sim) -> None:
    sim = await make_sim(rpm=600, itpm=2_000_000, otpm=400_000)  # the simulator sends rate-limit headers
    for size, overlay in (((80, 24), True), ((120, 40), False), ((160, 45), False)):
        app = make_app(sim, show_stats=None)
        async with app.run_test(size=size) as pilot:
            await app.engine_ready.wait()
            chat = app.active_chat
            await send(pilot, "hello")
            await wait_for(pilot, lambda: chat.turns[0].state == "done", what="a reply with rate-limit headers")
            if overlay:
                app.action_toggle_stats()  # F2 at 80 columns: the panel over the chat
            app._refresh_stats()
            lines = await _panel_lines(app, pilot)
            at = [n for n, line in enumerate(lines) if re.search(r"(requests|tokens) +[█░]", line)]
            assert len(at) == 2, "\n".join(lines)
            column = lines[at[0]].index("requests")
            for n in at:  # the figure and its unit on the gauge's own line; nothing spills onto the next
                assert re.search(r"\d+%\s+[\d.,k]+\s+\d+ s$", lines[n]), lines[n]
                assert not re.fullmatch(r"(\d+ )?s|reset", lines[n + 1][column:].strip()), lines[n + 1]


async def test_prompts_waiting_in_a_tab_count_in_queued_and_the_badge_says_so(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, stall_timeout=600)
    sim.hold_replies(after_tokens=5)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        chat = app.active_chat
        for prompt in ("first", "second", "third"):
            await send(pilot, prompt)
        await wait_for(pilot, lambda: chat.turns[0].state == "streaming", what="the first reply streaming")
        assert "+2" in chat.label(1)
        app._refresh_stats()
        assert app.metrics.snapshot().queued == 0  # the pool has nothing queued: the two wait in the tab
        assert "queued     2   2 of them in tabs (+N)" in app.stats_panel.section_text("pool")
        assert "queued 2" in str(app.statusbar.render())
        tooltip = str(app.tabs.get_tab(chat.tab_id).tooltip)
        assert "+2: 2 more prompts" in tooltip and "queued" in tooltip
        sim.release_replies()
        await wait_for(pilot, lambda: all(t.state == "done" for t in chat.turns), what="all three replies")


async def test_a_finished_replys_thinking_comes_back_collapsed_with_the_conversation(make_sim, tmp_path) -> None:
    from claude_tui.store import HistoryStore

    sim = await make_sim()
    store = HistoryStore.open(tmp_path / "h.db")
    try:
        app = make_app(sim, store=store, thinking_budget=1024)
        async with app.run_test(size=SIZE) as pilot:
            await app.engine_ready.wait()
            chat = app.active_chat
            await send(pilot, "Think first")
            await wait_for(pilot, lambda: chat.turns[0].state == "done", what="the reply")
            thinking = chat.reply(chat.turns[0]).thinking
        assert thinking
        again = make_app(sim, store=store)
        async with again.run_test(size=SIZE) as pilot:
            chat = await wait_for(pilot, lambda: again.active_chat if again.active_chat and again.active_chat.turns else None,
                                  what="the restored tab")
            reply = chat.reply(chat.turns[0])
            await wait_for(pilot, lambda: reply.thinking_box is not None, what="the restored thinking")
            assert reply.thinking == thinking and reply.thinking_box.collapsed
    finally:
        store.close()
