"""Every event of a pool, and a wait for a condition on them (the budget tests' one recorder)."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from claude_tui.engine.events import JobEvent
from claude_tui.engine.pool import RequestPool


class Recorder:
    def __init__(self, pool: RequestPool) -> None:
        self.events: list[JobEvent] = []
        self._changed = asyncio.Event()
        pool.add_listener(self._on)

    def _on(self, event: JobEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type, job_id: str | None = None) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind) and (job_id is None or e.job_id == job_id)]

    async def until(self, check: Callable[[], bool], timeout: float = 30.0) -> None:
        async def loop() -> None:
            while not check():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)  # a hang detector, not a synchronisation
