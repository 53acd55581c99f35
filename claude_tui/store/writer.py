"""Throttled saving of a reply while it streams.

``StreamingWriter`` writes at most once per ``interval`` (0.5 s: ~2 writes a second) and, while
the text keeps changing, at least once per ``interval`` too: a change that arrives inside the
quiet period is written by a timer when the period ends, even if no further delta comes. So a
``kill -9`` loses at most the last ``interval`` (plus one write's time) of the reply.

The timer is ``loop.call_later`` when there is a running asyncio loop in the calling thread (the
app's, where pool events arrive), else a daemon ``threading.Timer``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

from .db import HistoryStore


class StreamingWriter:
    def __init__(
        self,
        store: HistoryStore,
        message_id: int,
        *,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        timer: bool = True,
    ) -> None:
        self.store = store
        self.message_id = message_id
        self.interval = interval
        self._clock = clock
        self._use_timer = timer
        self._lock = threading.RLock()
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._written: tuple[int, int] = (0, 0)  # lengths last saved
        self._last_write = float("-inf")
        self._handle: Any = None  # asyncio.TimerHandle | threading.Timer
        self._closed = False
        self.writes = 0

    # -- feeding ------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._text)

    @property
    def thinking(self) -> str:
        with self._lock:
            return "".join(self._thinking)

    def append(self, text: str = "", thinking: str = "") -> bool:
        """Add streamed deltas. Returns True if this call wrote to the database."""
        with self._lock:
            if text:
                self._text.append(text)
            if thinking:
                self._thinking.append(thinking)
            return self._maybe_write()

    def update(self, text: str, thinking: str = "") -> bool:
        """Replace the whole reply so far. Returns True if this call wrote to the database."""
        with self._lock:
            self._text = [text]
            self._thinking = [thinking] if thinking else []
            self._written = (-1, -1)  # contents changed even if lengths did not
            return self._maybe_write()

    def reset(self) -> None:
        """A retried attempt starts its reply from scratch."""
        self.update("", "")

    # -- writing ------------------------------------------------------------------------------
    def _dirty(self) -> bool:
        return self._written != (sum(map(len, self._text)), sum(map(len, self._thinking)))

    def _maybe_write(self) -> bool:
        if self._closed or not self._dirty():
            return False
        now = self._clock()
        if now - self._last_write >= self.interval:
            self._write(now)
            return True
        self._arm(self._last_write + self.interval - now)
        return False

    def _write(self, now: float | None = None) -> None:
        self._cancel_timer()
        text, thinking = "".join(self._text), "".join(self._thinking)
        self.store.update_assistant_text(self.message_id, text, thinking)
        self._text, self._thinking = [text], [thinking] if thinking else []
        self._written = (len(text), len(thinking))
        self._last_write = self._clock() if now is None else now
        self.writes += 1

    def _arm(self, delay: float) -> None:
        if self._handle is not None or not self._use_timer:
            return
        delay = max(0.0, delay)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            timer = threading.Timer(delay, self._on_timer)
            timer.daemon = True
            self._handle = timer
            timer.start()
        else:
            self._handle = loop.call_later(delay, self._on_timer)

    def _cancel_timer(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None and handle is not threading.current_thread():
            handle.cancel()

    def _on_timer(self) -> None:
        with self._lock:
            self._handle = None
            if not self._closed and self._dirty():
                try:
                    self._write()
                except Exception:  # a locked or closed database must not kill the timer thread / loop
                    pass

    def flush(self) -> None:
        """Write now whatever is not saved yet."""
        with self._lock:
            if not self._closed and self._dirty():
                self._write()

    def finish(
        self,
        text: str | None = None,
        thinking: str | None = None,
        *,
        stop_reason: str | None = None,
        usage: Any = None,
        cost: float | None = None,
        status: str = "complete",
    ) -> None:
        """Final save (``text``/``thinking`` default to what was streamed), then stop the timer."""
        with self._lock:
            self._closed = True
            self._cancel_timer()
            self.store.finish_assistant_message(
                self.message_id,
                self.text if text is None else text,
                self.thinking if thinking is None else thinking,
                stop_reason,
                usage,
                cost,
                status,
            )

    def close(self) -> None:
        """Flush and stop the timer without finishing the message (it stays ``streaming``)."""
        with self._lock:
            self.flush()
            self._closed = True
            self._cancel_timer()
