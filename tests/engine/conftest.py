"""Engine tests talk to a real simulator over loopback with the real SDK: no mocks."""

from __future__ import annotations

from typing import AsyncIterator, Callable

import pytest

from claude_tui.engine.pool import RequestPool
from claude_tui.engine.retry import RetryPolicy
from claude_tui.simulator import Simulator


@pytest.fixture
async def make_pool() -> AsyncIterator[Callable[..., RequestPool]]:
    pools: list[RequestPool] = []

    def factory(sim: Simulator, **kwargs: object) -> RequestPool:
        kwargs.setdefault("policy", RetryPolicy(max_attempts=5, base=0.05, cap=0.2))
        kwargs.setdefault("stall_timeout", 2.0)
        pool = RequestPool(api_key="test-key", base_url=sim.base_url, **kwargs)  # type: ignore[arg-type]
        pools.append(pool)
        return pool

    yield factory
    for pool in pools:
        await pool.aclose()
