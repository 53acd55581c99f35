"""The app's start-up runs with the garbage collector paused (launch pauses it), and the app turns
it back on once its screen is up and the SDK is imported — with what start-up made frozen."""

from __future__ import annotations

import gc

from claude_tui.gc_policy import start_up_paused

from .conftest import SIZE, make_app


async def test_the_collector_runs_again_once_the_engine_is_ready(make_sim):
    sim = await make_sim()
    try:
        with start_up_paused():  # as `claude-tui` does before it builds the app
            assert not gc.isenabled()
            app = make_app(sim)
            async with app.run_test(size=SIZE):
                await app.engine_ready.wait()
                assert gc.isenabled()
                assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert gc.isenabled()
