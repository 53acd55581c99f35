"""kill -9 while a reply streams, restart: the prompt and the partial reply are there (issue #4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from claude_tui.store import HistoryStore

from .conftest import SIZE, make_app, wait_for

CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys, time
    sys.path.insert(0, {root!r})
    from claude_tui.backend import Backend
    from claude_tui.engine.retry import RetryPolicy
    from claude_tui.services import Services
    from claude_tui.simulator import Simulator, SimulatorConfig
    from claude_tui.store import HistoryStore
    from claude_tui.ui.app import ClaudeTUI

    async def main():
        sim = Simulator(SimulatorConfig(ttft_ms=10, tps=40, reply_tokens=3000, fixed_length=True, jitter=0.0, rpm=0, itpm=0, otpm=0))
        await sim.start()
        store = HistoryStore.open({db!r})
        app = ClaudeTUI(Backend(api_key="sim-key", base_url=sim.base_url, simulated=True), model="claude-sonnet-4-6",
                        max_tokens=4096, system=None, concurrency=2, policy=RetryPolicy(), stall_timeout=10.0,
                        services=Services.with_history(store))
        async with app.run_test(size=(120, 40)) as pilot:
            chat = app.active_chat
            chat.send("tell me about token buckets")
            # wait for the store to hold part of the reply (the throttled writer saves as it streams)
            while not (chat.turns and chat.turns[0].assistant_message_id is not None
                       and len(store.get_message(chat.turns[0].assistant_message_id).text) > 300):
                await asyncio.sleep(0.05)
            assert not chat.turns[0].state == "done"
            print("STREAMED", len(chat.reply(chat.turns[0]).body.text), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


async def test_kill_9_mid_stream_then_restart_restores_prompt_and_partial_reply(tmp_path: Path, make_sim) -> None:
    db = tmp_path / "history.db"
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run([sys.executable, "-c", CHILD.format(root=root, db=str(db))], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    streamed = int(proc.stdout.split("STREAMED")[1].split()[0])

    store = HistoryStore.open(db)  # a new process: the dead writer's message is marked interrupted
    try:
        (conv,) = store.list_conversations()
        full = store.get_conversation(conv.id)
        user, assistant = full.messages
        assert user.role == "user" and user.text == "tell me about token buckets"
        assert assistant.status == "interrupted"
        assert len(assistant.text) >= streamed * 0.6 and len(assistant.text) > 200  # at most the last second lost
        assert store.open_tabs() == [conv.id]

        sim = await make_sim()
        app = make_app(sim, store=store)
        async with app.run_test(size=SIZE) as pilot:
            chat = await wait_for(pilot, lambda: app.active_chat if app.active_chat and app.active_chat.turns else None, what="restored tab")
            turn = chat.turns[0]
            assert turn.prompt == "tell me about token buckets"
            await wait_for(pilot, lambda: chat.reply(turn).body.text == assistant.text, what="partial reply on screen")
            assert turn.state == "cancelled"  # shown as interrupted, not as a finished reply
            assert "interrupted" in str(chat.reply(turn).footer.render())
    finally:
        store.close()
