"""Which budget a front end's settings ask for: none, a local one, or one shared through Redis.

Its own module because it is the one place that knows both stores: ``budget_redis`` builds on
``budget``, so ``budget`` cannot import it back.
"""

from __future__ import annotations

from typing import Any

from .budget import Budget, LocalStore, Store


async def open_budget(limits: Any, *, api_key: str, user_limit: int) -> Budget | None:
    """The budget a front end's settings ask for (``config.LimitSettings``); None when ``limiter = off``.

    With a Redis URL the budget is shared; without the ``redis`` package it paces locally and says why.
    """
    if limits is None or limits.limiter == "off":
        return None
    store: Store | None = None
    if limits.redis_url:
        try:
            from .budget_redis import open_redis_store
        except ImportError:
            store = LocalStore(mode="local-fallback", reason="redis-py not installed (pip install 'claude-tui[redis]')")
        else:
            store = await open_redis_store(limits.redis_url, api_key)
    return Budget(store, burst_seconds=limits.burst_seconds, caps=limits.caps, slow_start=limits.slow_start, user_limit=user_limit)
