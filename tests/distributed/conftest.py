"""Workers' tests: real redis-server (tests/conftest.py), the simulator in a thread, and the CLI as
separate processes (`python -m claude_tui.cli run --distribute` / `worker`), killed with SIGKILL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from claude_tui.simulator import SimulatorConfig
from claude_tui.simulator.server import ThreadedSimulator

SECRET = "sk-ant-test-NEVER-IN-REDIS-7f3a9c"
ROOT = Path(__file__).resolve().parents[2]
HANG = 240.0  # seconds: only for hangs; a loaded CI machine is slow, never this slow


def wait_until(condition: Callable[[], Any], what: str, timeout: float = HANG) -> Any:
    """Poll a condition (a file, a Redis state, a process exit) until it holds; fail on a hang."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling a condition, bounded above


@pytest.fixture
def sim() -> Iterator[ThreadedSimulator]:
    """Replies of ~0.3 s, 600 RPM: a 60-prompt job lasts seconds, long enough to kill things mid-run."""
    handle = ThreadedSimulator(SimulatorConfig(ttft_ms=150, tps=400, reply_tokens=40, fixed_length=True, jitter=0.0,
                                               seed=5, rpm=600, itpm=0, otpm=0))
    handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def cli(tmp_path: Path, sim: ThreadedSimulator, xdg: dict[str, Any]) -> Callable[..., subprocess.Popen[bytes]]:
    """Start ``python -m claude_tui.cli ARGS`` with the test key and the simulator; stderr to a file."""
    started: list[subprocess.Popen[bytes]] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_TUI_"))}
    config = tmp_path / "config.toml"
    # No slow start: it ramps each worker from a quarter of the limit over minutes, which only makes
    # the test longer (the budget's own tests cover it); the shared budget still paces every worker.
    config.write_text("[limits]\nslow_start = false\n")
    env.update(ANTHROPIC_API_KEY=SECRET, ANTHROPIC_BASE_URL=sim.base_url, PYTHONPATH=str(ROOT),
               CLAUDE_TUI_NO_HISTORY="1", CLAUDE_TUI_CONFIG=str(config), COLUMNS="200", PYTHONUNBUFFERED="1")
    counter = iter(range(1000))

    def start(*args: str, log: str | None = None) -> subprocess.Popen[bytes]:
        name = log or f"proc{next(counter)}"
        err = open(tmp_path / f"{name}.err", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "claude_tui.cli", *args], cwd=tmp_path, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        proc.log = tmp_path / f"{name}.err"  # type: ignore[attr-defined]
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
