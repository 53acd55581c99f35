"""An error inside the simulator's request handling goes to claude-tui's log file, never to the
terminal: embedded (`run --simulate`, the app), a traceback on stderr would tear through the
progress bar or the TUI. (Seen once in CI: a handler failing as `run` stopped on a full disk.)"""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from claude_tui.logs import setup_logging, teardown_logging
from claude_tui.simulator import Simulator


async def test_a_failing_handler_is_logged_to_the_file_not_the_terminal(sim: Simulator, tmp_path: Path,
                                                                       capfd: pytest.CaptureFixture[str]) -> None:
    log_file = tmp_path / "claude-tui.log"
    setup_logging(path=log_file, level=logging.INFO)
    try:
        sim.state.faults = None  # type: ignore[assignment]  # the next request's handler raises
        async with aiohttp.ClientSession() as session:
            async with session.post(sim.base_url + "/v1/messages", json={"model": "claude-sonnet-4-6", "max_tokens": 5,
                                    "messages": [{"role": "user", "content": "hi"}]},
                                    headers={"x-api-key": "sim-key", "anthropic-version": "2023-06-01"}) as resp:
                assert resp.status == 500
    finally:
        teardown_logging()
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "Error handling request" not in err
    assert "Error handling request" in log_file.read_text()
