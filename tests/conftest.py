"""Fixtures for the whole suite.

- Every test runs with its own XDG directories and HOME: nothing touches the real home, and no
  ANTHROPIC_* or CLAUDE_TUI_* variable from the developer's shell leaks in.
- ``make_sim``: ``await make_sim(**config)`` → a started simulator on loopback, stopped at teardown.
  Its defaults come from the ``sim_defaults`` fixture, which each test folder overrides with the
  speed it needs.
- ``redis_server``: a real ``redis-server --port <free> --save '' --appendonly no`` on 127.0.0.1,
  killed at teardown; tests can ``kill()`` and ``start()`` it again on the same port. The starter is
  ``claude_tui.bench.redis_proc.RedisProcess`` (the shared-limit bench uses the same one; why the
  Debian package's binary is there). Used by tests/budget and tests/distributed.
"""

from __future__ import annotations

import os
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator

import pytest

from claude_tui.bench.redis_proc import RedisProcess, RedisStartError, RedisUnavailable
from claude_tui.simulator import Simulator, SimulatorConfig

_LEAKY_PREFIXES = ("ANTHROPIC_", "CLAUDE_TUI_")


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


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    try:
        server = RedisProcess()
    except RedisUnavailable as exc:
        pytest.skip(str(exc))
    try:
        server.start()
    except RedisStartError as exc:
        pytest.fail(str(exc))
    yield server
    server.kill()
