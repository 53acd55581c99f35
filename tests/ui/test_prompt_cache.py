"""Prompt caching you can see: the app marks the chat's stable prefix, the simulator caches it, and the
reply footer and the stats panel show what was read, written and saved.

Against the simulator with the real SDK: the simulator only writes and reads its cache for blocks
that carry ``cache_control`` (simulator/cache.py, after the API's prompt-caching page), so its usage
figures show what the request carried.
"""

from __future__ import annotations

from typing import Any

from claude_tui.engine.events import Done, JobEvent, Submitted
from claude_tui.ui.tab_model import with_cache_breakpoints

from .conftest import SIZE, make_app, send, wait_for

MODEL = "claude-sonnet-4-6"  # caches prefixes of 1,024 tokens and more
LONG_SYSTEM = "You answer questions about queueing, retries and rate limits in detail. " * 80  # ~1,400 tokens


def _done(chat: Any, n: int) -> bool:
    return len(chat.turns) == n and chat.turns[-1].state == "done"


def _capture(app: Any) -> tuple[list[dict[str, Any]], list[Done]]:
    """What each job sent (its request parameters) and each Done, read from the pool's events."""
    sent: list[dict[str, Any]] = []
    done: list[Done] = []

    def listen(event: JobEvent) -> None:
        if isinstance(event, Submitted):
            sent.append(event.job.request_params())
        elif isinstance(event, Done):
            done.append(event)

    app.pool.add_listener(listen)
    return sent, done


def _marks(params: dict[str, Any]) -> list[str]:
    """Where the request carries cache_control: "system" and/or "messages.i"."""
    found = []
    system = params.get("system")
    if isinstance(system, list) and any("cache_control" in block for block in system):
        found.append("system")
    for i, message in enumerate(params["messages"]):
        content = message["content"]
        if isinstance(content, list) and any("cache_control" in block for block in content):
            found.append(f"messages.{i}")
    return found


async def test_the_second_turn_of_a_long_system_prompt_chat_reads_the_cache_and_shows_it(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, model=MODEL, system=LONG_SYSTEM)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        sent, done = _capture(app)
        chat = app.active_chat
        await send(pilot, "How big should a worker pool be?")
        await wait_for(pilot, lambda: _done(chat, 1), what="the first reply")
        await send(pilot, "And its queue?")
        await wait_for(pilot, lambda: _done(chat, 2), what="the second reply")

        assert _marks(sent[0]) == ["system"]  # no earlier turn yet: the system prompt is the prefix
        assert _marks(sent[1]) == ["system", "messages.1"]  # system + the first exchange
        first, second = done[0].usage, done[1].usage
        assert first.cache_creation_input_tokens > 1000 and first.cache_read_input_tokens == 0
        assert second.cache_read_input_tokens == first.cache_creation_input_tokens  # read on the second turn

        footers = [str(chat.reply(turn).footer.render()) for turn in chat.turns]
        assert "cache written" in footers[0] and "(+$" in footers[0]  # a write costs more than input
        assert "cache read" in footers[1] and "saved $" in footers[1]

        app._refresh_stats()
        tokens = app.stats_panel.section_text("tokens")
        snap = app.metrics.snapshot()
        ratio = snap.cache_read_tokens / (snap.input_tokens + snap.cache_read_tokens + snap.cache_write_tokens)
        assert f"hit ratio  {ratio * 100:.0f}% of input" in tokens
        assert snap.cache_saved > 0 and "saved $" in tokens


async def test_a_long_first_prompt_is_marked_on_the_next_turn_and_read_on_the_third(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, model=MODEL)
    long_prompt = "Here is our retry policy document, section by section. " * 90  # ~1,300 tokens
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        sent, done = _capture(app)
        chat = app.active_chat
        for n, prompt in enumerate((long_prompt, "Summarise it.", "Shorter."), start=1):
            await send(pilot, prompt)
            await wait_for(pilot, lambda n=n: _done(chat, n), what=f"reply {n}")
        assert [_marks(p) for p in sent] == [[], ["messages.1"], ["messages.3"]]
        assert done[1].usage.cache_creation_input_tokens > 1000
        assert done[2].usage.cache_read_input_tokens == done[1].usage.cache_creation_input_tokens


async def test_with_the_setting_off_nothing_is_marked_and_nothing_cached(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, model=MODEL, system=LONG_SYSTEM, prompt_cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        sent, done = _capture(app)
        chat = app.active_chat
        for n, prompt in enumerate(("One?", "Two?"), start=1):
            await send(pilot, prompt)
            await wait_for(pilot, lambda n=n: _done(chat, n), what=f"reply {n}")
        assert [_marks(p) for p in sent] == [[], []] and isinstance(sent[0]["system"], str)
        assert all(d.usage.cache_read_input_tokens == d.usage.cache_creation_input_tokens == 0 for d in done)
        assert "cache" not in str(chat.reply(chat.turns[1]).footer.render())
        app._refresh_stats()
        assert "no cached input yet" in app.stats_panel.section_text("tokens")


def test_a_short_prefix_gets_no_breakpoint() -> None:
    """Below the model's minimum the API ignores a breakpoint: the app does not send one."""
    messages = ({"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "and?"})
    assert with_cache_breakpoints(messages, system="Be brief.", model=MODEL) == (messages, False)
    # Haiku 4.5 needs 4,096 tokens: a ~1,400-token system prompt is not enough there
    assert with_cache_breakpoints(messages, system=LONG_SYSTEM, model="claude-haiku-4-5")[1] is False
    assert with_cache_breakpoints(messages, system=LONG_SYSTEM, model=MODEL)[1] is True
