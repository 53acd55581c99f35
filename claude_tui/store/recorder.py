"""The history's pool listener: engine events in, attempt rows (and streamed replies) out.

    store = HistoryStore.open()
    recorder = HistoryRecorder(store, prices=settings.price_table())
    pool.add_listener(recorder.observe)

    conv = store.create_conversation("title", model, system)
    store.add_user_message(conv, prompt)                 # before the request is sent
    msg = store.start_assistant_message(conv)
    pool.submit(Job(..., correlation=Correlation(conversation_id=conv, message_id=msg)))

The recorder learns each job (model, stored ids) from its ``Submitted`` event, like every other
consumer. Jobs without stored ids (headless runs) still get their attempt rows, unlinked.

Its writes go through a ``WriteBatcher``: one transaction per ``batch_interval`` (0.1 s) for every
row and streamed reply of that window, not one per attempt. ``close()`` (``Services.close``)
commits what is queued; a ``kill -9`` loses at most the last ``batch_interval`` of rows and text.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..engine.events import (
    AttemptFailed,
    Cancelled,
    Done,
    Failed,
    FirstToken,
    JobEvent,
    Started,
    Submitted,
    TextDelta,
    ThinkingDelta,
    Timings,
    Usage,
)
from ..engine.pricing import PriceTable
from ..logs import notice, storage_reason
from .db import HistoryError, HistoryStore
from .writer import StreamingWriter, WriteBatcher

log = logging.getLogger("claude_tui.store")


@dataclass
class _JobState:
    conversation_id: int | None = None
    message_id: int | None = None
    model: str | None = None
    attempt: int = 0
    ttft: dict[int, float] = field(default_factory=dict)
    recorded_attempt: int = 0  # the last attempt that has a row
    last_row: int | None = None
    writer: StreamingWriter | None = None


def _wall(monotonic_at: float | None) -> float | None:
    """A ``time.monotonic()`` reading as epoch seconds."""
    if monotonic_at is None:
        return None
    return time.time() - (time.monotonic() - monotonic_at)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


class HistoryRecorder:
    """Call ``observe(event)`` for every pool event (``pool.add_listener(recorder.observe)``).

    - ``AttemptFailed`` → an attempt row (``error``; turned ``failed`` when ``Failed`` follows)
    - ``Done`` → an ``ok`` attempt row; the tagged message finished ``complete``
    - ``Failed`` → the tagged message finished ``failed`` with the partial text
    - ``Cancelled`` → a ``cancelled`` row for an attempt that was in flight; message ``cancelled``
    - ``TextDelta``/``ThinkingDelta`` → the tagged message saved through a ``StreamingWriter``

    Database errors are logged and kept in ``last_error``, never raised into the pool. The history
    is best effort: when the disk is full (SQLITE_FULL, ENOSPC, a file-size limit) the recorder
    switches itself off with one notice (``history off: disk full``) and the requests go on; a
    full disk would otherwise fail every later write the same way, one warning per event.
    """

    def __init__(
        self,
        store: HistoryStore,
        *,
        prices: PriceTable | None = None,
        stream_messages: bool = True,
        record_untagged: bool = True,
        interval: float = 0.5,
        batch_interval: float = 0.1,
    ) -> None:
        self.store = store
        self.prices = prices  # engine.pricing.PriceTable, for the cost of failed attempts
        self.stream_messages = stream_messages
        self.record_untagged = record_untagged
        self.interval = interval
        self.last_error: Exception | None = None
        self.off: str | None = None  # why the recorder switched itself off, if it did
        self._jobs: dict[str, _JobState] = {}
        #: None with ``batch_interval=0``: every write commits at once (and a streamed reply is
        #: saved every ``interval``), as before batching.
        self.batcher = WriteBatcher(store, interval=batch_interval, on_error=self._write_failed) if batch_interval > 0 else None

    def _state(self, job_id: str) -> _JobState:
        state = self._jobs.get(job_id)
        if state is None:
            state = self._jobs[job_id] = _JobState()
        return state

    def observe(self, event: JobEvent) -> None:
        if self.off is not None:
            return
        try:
            self._observe(event)
        except (sqlite3.Error, HistoryError, OSError) as exc:
            self._failed_write(exc, f"{type(event).__name__} for {event.job_id}")

    def _write_failed(self, exc: Exception) -> None:
        """A queued write failed at the batcher's flush."""
        if self.off is None:
            self._failed_write(exc, "a queued write")

    def _failed_write(self, exc: Exception, what: str) -> None:
        self.last_error = exc
        reason = storage_reason(exc)
        if reason is not None:
            self._switch_off(reason)
        else:
            log.warning("history: could not record %s: %s", what, exc)

    def flush(self) -> None:
        """Commit the queued writes now."""
        if self.batcher is not None and self.off is None:
            self.batcher.flush()

    def close(self) -> None:
        """Commit the queued writes and stop the timer (before the store closes)."""
        if self.batcher is not None:
            self.batcher.close(flush=self.off is None)

    def _switch_off(self, reason: str) -> None:
        self.off = reason
        if self.batcher is not None:  # queued writes would only fail the same way
            self.batcher.close(flush=False)
        for state in self._jobs.values():  # their timers would only fail the same way
            if state.writer is not None:
                state.writer._closed = True
                state.writer._cancel_timer()
        self._jobs.clear()
        notice(f"history off: {reason}")

    __call__ = observe

    def _observe(self, event: JobEvent) -> None:
        if isinstance(event, Submitted):
            job = event.job
            state = self._state(event.job_id)
            state.conversation_id = job.correlation.conversation_id
            state.message_id = job.correlation.message_id
            state.model = job.model
            return
        known = self._jobs.get(event.job_id)
        if known is None:
            if not isinstance(event, (Started, AttemptFailed, Done, Failed, Cancelled)):
                return
            known = self._state(event.job_id)
        state = known
        if isinstance(event, Started):
            state.attempt = event.attempt
            if event.attempt > 1 and state.writer is not None:
                state.writer.reset()
        elif isinstance(event, FirstToken):
            state.ttft[event.attempt] = event.ttft
        elif isinstance(event, (TextDelta, ThinkingDelta)):
            writer = self._writer(state)
            if writer is not None:
                if isinstance(event, TextDelta):
                    writer.append(text=event.text)
                else:
                    writer.append(thinking=event.text)
        elif isinstance(event, AttemptFailed):
            self._attempt_failed(event, state)
        elif isinstance(event, Done):
            self._done(event, state)
        elif isinstance(event, Failed):
            self._failed(event, state)
        elif isinstance(event, Cancelled):
            self._cancelled(event, state)

    def _writer(self, state: _JobState) -> StreamingWriter | None:
        if not self.stream_messages or state.message_id is None:
            return None
        if state.writer is None:
            state.writer = StreamingWriter(self.store, state.message_id, interval=self.interval, batcher=self.batcher)
        return state.writer

    def _model(self, state: _JobState) -> str | None:
        if state.model is None and state.conversation_id is not None:
            conv = self.store.get_conversation(state.conversation_id)
            state.model = conv.model if conv else None
        return state.model

    def _cost(self, model: str | None, usage: Usage) -> float | None:
        if self.prices is None or model is None:
            return None
        cost: float | None = self.prices.cost(model, usage)
        return cost

    def _linked(self, state: _JobState) -> bool:
        return self.record_untagged or state.conversation_id is not None or state.message_id is not None

    def _row(self, event: JobEvent, state: _JobState, **values: Any) -> None:
        if not self._linked(state):
            return
        job_id = event.job_id

        def write(store: HistoryStore) -> None:
            state.last_row = store.record_attempt(job_id, conversation_id=state.conversation_id, message_id=state.message_id, **values)

        self._write(write)
        state.recorded_attempt = values["attempt"]

    def _write(self, write: Callable[[HistoryStore], None]) -> None:
        """Queued on the batcher (run in order, after the writes queued before it), else run now."""
        if self.batcher is not None:
            self.batcher.add(write)
        else:
            write(self.store)

    def _attempt_failed(self, event: AttemptFailed, state: _JobState) -> None:
        model = self._model(state)
        ttft = state.ttft.get(event.attempt)
        u = event.usage
        self._row(
            event,
            state,
            attempt=event.attempt,
            status="error",
            model=model,
            error_kind=event.kind,
            error_message=event.message,
            status_code=event.status_code,
            started_at=_wall(event.started),
            ended_at=_wall(event.ended),
            ttft_ms=_ms(ttft),
            latency_ms=_ms(event.ended - event.started),
            **self._usage_values(u),
            cost=self._cost(model, u),
            request_id=event.request_id,
            retries=event.attempt - 1,
        )

    @staticmethod
    def _usage_values(usage: Usage) -> dict[str, int]:
        """The attempt row's token columns from the API's usage."""
        return dict(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_creation_input_tokens,
            cache_read_tokens=usage.cache_read_input_tokens,
        )

    def _timing_values(self, timings: Timings) -> dict[str, Any]:
        return dict(
            started_at=_wall(timings.started),
            ended_at=_wall(timings.finished),
            ttft_ms=_ms(timings.ttft),
            latency_ms=_ms(timings.latency),
        )

    def _done(self, event: Done, state: _JobState) -> None:
        self._jobs.pop(event.job_id, None)
        u = event.usage
        cost = event.cost if event.cost is not None else self._cost(event.model, u)
        self._row(
            event,
            state,
            attempt=event.attempts,
            status="ok",
            model=event.model or self._model(state),
            **self._usage_values(u),
            cost=cost,
            request_id=event.request_id,
            retries=max(0, event.attempts - 1),
            **self._timing_values(event.timings),
        )
        self._finish_message(state, event.text, event.thinking, "complete", stop_reason=event.stop_reason, usage=u, cost=cost)

    def _failed(self, event: Failed, state: _JobState) -> None:
        self._jobs.pop(event.job_id, None)
        if state.recorded_attempt == event.attempts:  # its row is written (or queued before this)

            def mark_failed(store: HistoryStore) -> None:
                if state.last_row is not None:
                    store.set_attempt_status(state.last_row, "failed")

            self._write(mark_failed)
        else:
            model = self._model(state)
            u = event.usage
            self._row(
                event,
                state,
                attempt=event.attempts,
                status="failed",
                model=model,
                error_kind=event.kind,
                error_message=event.message,
                status_code=event.status_code,
                **self._usage_values(u),
                cost=self._cost(model, u),
                request_id=event.request_id,
                retries=max(0, event.attempts - 1),
                **self._timing_values(event.timings),
            )
        text = event.partial_text or (state.writer.text if state.writer else "")
        self._finish_message(state, text, None, "failed", usage=event.usage)

    def _cancelled(self, event: Cancelled, state: _JobState) -> None:
        self._jobs.pop(event.job_id, None)
        if event.attempts > state.recorded_attempt:  # an attempt was in flight
            self._row(
                event,
                state,
                attempt=event.attempts,
                status="cancelled",
                model=self._model(state),
                retries=max(0, event.attempts - 1),
                **self._timing_values(event.timings),
            )
        text = event.partial_text or (state.writer.text if state.writer else "")
        self._finish_message(state, text, None, "cancelled")

    def _finish_message(self, state: _JobState, text: str, thinking: str | None, status: str, **extra: Any) -> None:
        if not self.stream_messages or state.message_id is None:
            return
        writer = state.writer or StreamingWriter(self.store, state.message_id, interval=self.interval, batcher=self.batcher)
        writer.finish(text, thinking if thinking is not None else writer.thinking, status=status, **extra)
