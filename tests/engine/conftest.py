"""Engine tests talk to a real simulator over loopback with the real SDK: no mocks."""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable

import pytest
from scripted_http import KEY, Handler, Scripted

from claude_tui.engine.events import JobEvent

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


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[..., Any]]:
    """``await scripted(handler, **pool_kwargs)`` -> (server, pool, events): a scripted loopback
    server (tests/scripted_http.py) and a pool talking to it with the real SDK."""
    servers: list[Scripted] = []
    pools: list[RequestPool] = []

    async def factory(handler: Handler, *, start: bool = True, **pool_kwargs: Any) -> tuple[Scripted, RequestPool, list[JobEvent]]:
        server = Scripted(handler)
        if start:
            await server.start()
        servers.append(server)
        pool_kwargs.setdefault("policy", RetryPolicy(max_attempts=5, base=0.05, cap=0.2, rate_limit_patience=600))
        pool_kwargs.setdefault("stall_timeout", 5.0)
        pool = RequestPool(api_key=KEY, base_url=server.base_url, **pool_kwargs)
        pools.append(pool)
        events: list[JobEvent] = []
        pool.add_listener(events.append)
        return server, pool, events

    yield factory
    for pool in pools:
        await pool.aclose()
    for server in servers:
        await server.stop()
