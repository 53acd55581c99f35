"""Budget tests: the real simulator over loopback, and a real redis-server process (no mocks).

The ``redis_server`` fixture is in tests/conftest.py (the workers' tests use it too).
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable

import pytest

from claude_tui.engine.pool import RequestPool
from claude_tui.engine.retry import RetryPolicy


@pytest.fixture
def sim_defaults() -> dict[str, Any]:
    return dict(ttft_ms=10, tps=5000, reply_tokens=20, fixed_length=True, jitter=0.0, seed=3, rpm=0, itpm=0, otpm=0)


@pytest.fixture
async def make_pool() -> AsyncIterator[Callable[..., RequestPool]]:
    """Pools on a server (a simulator or a scripted server: anything with ``base_url``, or the URL),
    with quick retries; each closed, with its budget, at the end of the test."""
    pools: list[RequestPool] = []

    def factory(server: Any, **kwargs: Any) -> RequestPool:
        kwargs.setdefault("policy", RetryPolicy(max_attempts=5, base=0.05, cap=0.2))
        kwargs.setdefault("stall_timeout", 10.0)
        base_url = server if isinstance(server, str) else server.base_url
        pool = RequestPool(api_key="test-key", base_url=base_url, **kwargs)
        pools.append(pool)
        return pool

    yield factory
    for pool in pools:
        await pool.aclose()
        if pool.budget is not None:
            await pool.budget.aclose()
