"""What every front end (the TUI, `claude-tui run`) attaches to the pool: history, logs.

Opening them is one call, and a history that cannot be opened degrades to "no history" with a
one-line notice — never a traceback, never lost data (a corrupt file is moved aside by the store).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from .engine.events import JobEvent


@dataclass
class Services:
    store: Any = None  # store.HistoryStore, or None when history is unavailable
    recorder: Any = None  # store.HistoryRecorder
    request_logger: Any = None  # logs.RequestLogger
    notices: list[str] = field(default_factory=list)

    def listeners(self) -> list[Callable[[JobEvent], None]]:
        return [obj.observe for obj in (self.recorder, self.request_logger) if obj is not None]

    def track(self, job: Any) -> None:
        """Tell the recorder and the logger about a job before it is submitted."""
        for obj in (self.recorder, self.request_logger):
            if obj is not None:
                obj.track(job)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
        from .logs import teardown_logging

        teardown_logging()


def open_services(settings: Any, *, stream_messages: bool, history: bool = True, with_recorder: bool = True) -> Services:
    """Logging, the history store and (unless the caller records itself) its event recorder."""
    from .logs import RequestLogger, setup_logging
    from .store import HistoryRecorder, HistoryStore
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
    services.store = store
    if with_recorder:
        services.recorder = HistoryRecorder(store, prices=settings.price_table(), stream_messages=stream_messages)
    return services
