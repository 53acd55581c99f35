"""Fixtures for the whole suite.

- Every test runs with its own XDG directories and HOME: nothing touches the real home, and no
  ANTHROPIC_* or CLAUDE_TUI_* variable from the developer's shell leaks in.
- ``make_sim``: ``await make_sim(**config)`` → a started simulator on loopback, stopped at teardown.
  Its defaults come from the ``sim_defaults`` fixture, which each test folder overrides with the
  speed it needs.
- ``redis_server``: a real ``redis-server --port <free> --save '' --appendonly no`` on 127.0.0.1,
  killed at teardown; tests can ``kill()`` and ``start()`` it again on the same port. We use the
  Debian package's binary (``apt-get install redis-server``): the budget's script needs Redis ≥ 5
  and the workers' ``XAUTOCLAIM`` Redis ≥ 6.2; a distribution package is what operators run, and
  .ci/run installs it. Used by tests/budget and tests/distributed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator

import pytest

from claude_tui.simulator import Simulator, SimulatorConfig

_LEAKY_PREFIXES = ("ANTHROPIC_", "CLAUDE_TUI_")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture(autouse=True)
def xdg(tmp_path, monkeypatch) -> dict[str, Any]:
    dirs = {}
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        path = tmp_path / "xdg" / name.lower()
        monkeypatch.setenv(f"XDG_{name}_HOME", str(path))
        dirs[name.lower()] = path
    for var in [name for name in os.environ if name.startswith(_LEAKY_PREFIXES)]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    dirs["root"] = tmp_path / "xdg"
    return dirs


@pytest.fixture
def sim_defaults() -> dict[str, Any]:
    """Fast and deterministic: no rate limit, short TTFT, fixed-length replies."""
    return dict(ttft_ms=20, tps=2000, reply_tokens=60, fixed_length=True, jitter=0.0, seed=7, rpm=0, itpm=0, otpm=0)


@pytest.fixture
async def make_sim(sim_defaults: dict[str, Any]) -> AsyncIterator[Callable[..., Awaitable[Simulator]]]:
    started: list[Simulator] = []

    async def factory(**overrides: Any) -> Simulator:
        sim = Simulator(SimulatorConfig(**{**sim_defaults, **overrides}))
        await sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        await sim.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port) and return once it answers PING."""
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20  # bounded: a server that never listens fails the test, not hangs it
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)  # polling a readiness condition, bounded above

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server not found: apt-get install redis-server")
    server = RedisServer(_free_port())
    server.start()
    yield server
    server.kill()
