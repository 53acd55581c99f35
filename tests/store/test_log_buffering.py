"""The log is written in batches, but a line never waits long for one, and nothing is lost on exit."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

from claude_tui import logs


def _wait_for(condition, timeout: float = 30.0) -> bool:
    """Polls a condition; the timeout only catches a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_a_buffered_line_reaches_the_file_without_a_flush(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    logs.setup_logging(path=path)
    try:
        log = logging.getLogger("claude_tui.requests")
        log.info("first line")  # written at once: a log that cannot be written says so at start
        assert "first line" in path.read_text()
        for i in range(10):
            log.info("job=%d status=done", i)
        assert _wait_for(lambda: "job=9 status=done" in path.read_text())  # by the 100 ms timer
        log.warning("job=x attempt=1 failed")  # a warning is written at once
        assert "job=x attempt=1 failed" in path.read_text()
    finally:
        logs.teardown_logging()


def test_lines_buffered_at_exit_are_written(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    code = (
        "import logging; from claude_tui import logs\n"
        f"logs.setup_logging(path={str(path)!r})\n"
        "log = logging.getLogger('claude_tui.requests')\n"
        "for i in range(300): log.info('job=%d status=done', i)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    lines = path.read_text().splitlines()
    assert len(lines) == 300 and lines[-1].endswith("job=299 status=done")
