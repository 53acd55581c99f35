"""History writes off the hot path: batched commits, and throttled saving of a reply while it streams.

``WriteBatcher`` queues writes and commits everything queued in one transaction at most every
``interval`` (0.1 s): a 10k-prompt ``run`` made one transaction per attempt before (3 % of its CPU
and ~150 MB of WAL). So a ``kill -9`` loses at most the writes of the last ``interval`` (plus one
commit's time): attempt rows and streamed text. Prompts are never queued: the front end stores a
prompt itself (``store.add_user_message``) before its request is sent.

``StreamingWriter`` saves one reply while it streams. On its own it writes at most once per
``interval`` (0.5 s) and, while the text keeps changing, at least once per ``interval`` too: a
change that arrives inside the quiet period is written by a timer when the period ends, even if no
further delta comes. Given a ``WriteBatcher`` it writes at the batcher's flushes instead, with all
the other replies and rows in the same transaction.

Timers are ``loop.call_later`` when there is a running asyncio loop in the calling thread (the
app's and ``run``'s, where pool events arrive), else a daemon ``threading.Timer``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, Hashable

from .db import HistoryStore

Write = Callable[[HistoryStore], object]


def _call_later(delay: float, fn: Callable[[], None]) -> Any:
    """``fn`` after ``delay`` on this thread's running loop, else on a daemon timer thread."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        timer = threading.Timer(delay, fn)
        timer.daemon = True
        timer.start()
        return timer
    return loop.call_later(delay, fn)


class WriteBatcher:
    """Queue writes (``add``); commit all queued ones in one transaction ``interval`` after the first.

    Writes run in the order they were queued. A write queued under a ``key`` already waiting is
    not queued twice (a streaming reply saves its latest text once per flush). A write that raises
    undoes only itself (a savepoint) and goes to ``on_error``; the others still commit.
    """

    def __init__(
        self,
        store: HistoryStore,
        *,
        interval: float = 0.1,
        on_error: Callable[[Exception], None] | None = None,
        timer: bool = True,
    ) -> None:
        self.store = store
        self.interval = interval
        self.on_error = on_error
        self._use_timer = timer
        self._lock = threading.RLock()
        self._queue: dict[Hashable, Write] = {}
        self._handle: Any = None
        self._closed = False
        self.commits = 0

    def add(self, write: Write, key: Hashable | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            if key is None:
                key = object()
            if key not in self._queue:
                self._queue[key] = write
            if self._handle is None and self._use_timer:
                self._handle = _call_later(self.interval, self._on_timer)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _on_timer(self) -> None:
        with self._lock:
            self._handle = None
        self.flush()

    def flush(self) -> None:
        """Commit every queued write now (one transaction). Errors go to ``on_error``, else raise."""
        with self._lock:  # held only to take the queue: a write may take a StreamingWriter's lock
            queue, self._queue = self._queue, {}
            _cancel(self._handle)
            self._handle = None
            if not queue or self._closed:
                return
        try:
            with self.store.transaction():
                for write in queue.values():
                    if self._closed:  # on_error switched the history off
                        break
                    try:
                        with self.store.transaction():  # a savepoint: a failed write undoes only itself
                            write(self.store)
                    except Exception as exc:
                        self._error(exc)
            self.commits += 1
        except Exception as exc:  # the commit itself (disk full, a closed store)
            self._error(exc)

    def _error(self, exc: Exception) -> None:
        if self.on_error is None:
            raise exc
        self.on_error(exc)

    def close(self, *, flush: bool = True) -> None:
        """Commit what is queued (unless ``flush=False``: the history is off) and stop the timer."""
        if flush:
            self.flush()
        with self._lock:
            self._closed = True
            self._queue.clear()
            _cancel(self._handle)
            self._handle = None


def _cancel(handle: Any) -> None:
    if handle is not None and handle is not threading.current_thread():
        handle.cancel()


class StreamingWriter:
    def __init__(
        self,
        store: HistoryStore,
        message_id: int,
        *,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        timer: bool = True,
        batcher: WriteBatcher | None = None,
    ) -> None:
        self.store = store
        self.batcher = batcher  # when set, saves ride on its flushes (and never under self._lock)
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
        if self.batcher is not None:
            self.batcher.add(self._save_batched, key=("message", self.message_id))
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

    def _save_batched(self, store: HistoryStore) -> None:
        """The batcher's flush: the reply as it is now (the store's lock is held: take ours briefly)."""
        with self._lock:
            if self._closed or not self._dirty():
                return
            text, thinking = "".join(self._text), "".join(self._thinking)
            self._text, self._thinking = [text], [thinking] if thinking else []
            self._written = (len(text), len(thinking))
        store.update_assistant_text(self.message_id, text, thinking)
        self.writes += 1

    def _arm(self, delay: float) -> None:
        if self._handle is not None or not self._use_timer:
            return
        self._handle = _call_later(max(0.0, delay), self._on_timer)

    def _cancel_timer(self) -> None:
        handle, self._handle = self._handle, None
        _cancel(handle)

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
        if self.batcher is not None:
            self.batcher.flush()
            return
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
        """Final save (``text``/``thinking`` default to what was streamed), then stop the timer.

        With a batcher the save is queued (after the reply's last streamed text) and committed at
        its next flush."""
        with self._lock:
            self._closed = True
            self._cancel_timer()
            final = (self.text if text is None else text, self.thinking if thinking is None else thinking)
        message_id = self.message_id

        def save(store: HistoryStore) -> None:
            store.finish_assistant_message(message_id, final[0], final[1], stop_reason, usage, cost, status)

        if self.batcher is not None:
            self.batcher.add(save)
        else:
            save(self.store)

    def close(self) -> None:
        """Flush and stop the timer without finishing the message (it stays ``streaming``)."""
        self.flush()
        with self._lock:
            self._closed = True
            self._cancel_timer()
