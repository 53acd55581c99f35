"""What every front end (the TUI, `claude-tui run`) opens around the engine: the pool, history, logs.

Opening them is one call each, the same for both front ends, and a history that cannot be opened
degrades to "no history" with a one-line notice — never a traceback, never lost data (a corrupt
file is moved aside by the store). Every consumer here is a pool listener: it learns each job from
the pool's ``Submitted`` event and everything after from the same stream.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .engine.events import JobEvent

if TYPE_CHECKING:
    from .config import LimitSettings, Settings
    from .engine.pool import RequestPool
    from .engine.pricing import PriceTable
    from .engine.retry import RetryPolicy
    from .logs import RequestLogger
    from .store import HistoryRecorder, HistoryStore


@dataclass
class Services:
    store: "HistoryStore | None" = None  # None when history is unavailable
    recorder: "HistoryRecorder | None" = None
    request_logger: "RequestLogger | None" = None
    notices: list[str] = field(default_factory=list)

    @classmethod
    def with_history(cls, store: "HistoryStore", *, prices: "PriceTable | None" = None, stream_messages: bool = True) -> "Services":
        """A store and its recorder, wired as every front end wires them (tests and screenshots too)."""
        from .store import HistoryRecorder

        return cls(store=store, recorder=HistoryRecorder(store, prices=prices, stream_messages=stream_messages))

    def listeners(self) -> list[Callable[[JobEvent], None]]:
        return [obj.observe for obj in (self.recorder, self.request_logger) if obj is not None]

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()  # commits its last batch of writes before the store closes
        if self.store is not None:
            self.store.close()
            self.store = None
        from .logs import teardown_logging

        teardown_logging()


def open_services(settings: "Settings", *, stream_messages: bool, history: bool = True) -> Services:
    """Logging, the history store and its event recorder (``stream_messages``: save replies as they stream)."""
    from .logs import RequestLogger, setup_logging
    from .store import HistoryStore
    from .store.db import HistoryError

    setup_logging(settings)
    services = Services(request_logger=RequestLogger(log_prompts=settings.log_prompts))
    if not history or os.environ.get("CLAUDE_TUI_NO_HISTORY"):
        return services
    try:
        store = HistoryStore.open()
    except (HistoryError, OSError) as exc:
        services.notices.append(f"history is off for this session: {exc}")
        return services
    if store.notice:
        services.notices.append(store.notice)
    history_services = Services.with_history(store, prices=settings.price_table(), stream_messages=stream_messages)
    services.store, services.recorder = history_services.store, history_services.recorder
    return services


async def open_pool(
    *,
    api_key: str,
    base_url: str | None,
    concurrency: int,
    policy: "RetryPolicy",
    stall_timeout: float | None,
    prices: "PriceTable | None" = None,
    limits: "LimitSettings | None" = None,
    defer_client: bool = False,
) -> "RequestPool":
    """The one way a front end builds its pool: the request settings plus the rate budget that
    ``[limits]`` / ``--limiter`` / ``--redis`` ask for (``limits=None``: no pacing).

    ``defer_client``: the TUI takes prompts before the SDK has been imported (see ``RequestPool``).
    Close it with :func:`close_pool`, which closes the budget too.
    """
    from .engine.budget_factory import open_budget
    from .engine.pool import RequestPool

    budget = await open_budget(limits, api_key=api_key, user_limit=concurrency)
    return RequestPool(
        api_key=api_key,
        base_url=base_url,
        limit=concurrency,
        policy=policy,
        stall_timeout=stall_timeout,
        prices=prices,
        budget=budget,
        defer_client=defer_client,
    )


async def close_pool(pool: "RequestPool") -> None:
    """Cancel what runs (listeners still hear the Cancelled events), close the client and the budget."""
    await pool.aclose()
    if pool.budget is not None:
        await pool.budget.aclose()
