"""What the server saw: counters and a per-request log for tests to assert on. Thread-safe."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(slots=True)
class RequestRecord:
    """One ``POST /v1/messages`` request. Times are ``time.monotonic()`` in the server process.

    ``status`` is the HTTP status sent (200 for a stream, even one that later failed);
    ``outcome`` says how it ended: ``ok``, ``error`` (an HTTP error status),
    ``stream_error``, ``disconnect``, ``reset`` (a TCP RST), ``truncate``, ``stall`` (stalled,
    then completed) or ``client_closed`` (the client went away first, e.g. after a ``blackhole``).
    """

    request_id: str
    received_at: float
    finished_at: float | None = None
    status: int | None = None
    model: str | None = None
    stream: bool = False
    fault: str | None = None
    error_type: str | None = None
    retry_count: int | None = None  # the x-stainless-retry-count header the SDK sends
    retry_after: int | None = None  # the retry-after header we sent, if any
    input_tokens: int = 0
    output_tokens: int = 0
    outcome: str | None = None
    # what the request asked for (None when the body could not be parsed): the app's per-chat settings are tested on these
    max_tokens: int | None = None
    system: str | None = None  # a string system prompt, or its text blocks joined
    thinking_budget: int | None = None  # thinking.budget_tokens when extended thinking was asked for
    messages: Any = None  # the body's messages, with ``keep_bodies()`` only (off: a long run's log would hold every prompt)


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    requests_total: int
    in_flight: int
    peak_in_flight: int
    status_counts: dict[int, int] = field(default_factory=dict)
    fault_counts: dict[str, int] = field(default_factory=dict)
    output_tokens_total: int = 0


class StatsRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset(in_flight=0)

    def _reset(self, in_flight: int) -> None:
        self.requests_total = 0
        self.in_flight = in_flight
        self.peak_in_flight = in_flight
        self.status_counts: dict[int, int] = {}
        self.fault_counts: dict[str, int] = {}
        self.output_tokens_total = 0
        self.log: list[RequestRecord] = []

    def begin(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests_total += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self.log.append(record)

    def end(self, record: RequestRecord) -> None:
        with self._lock:
            self.in_flight -= 1
            if record.status is not None:
                self.status_counts[record.status] = self.status_counts.get(record.status, 0) + 1
            if record.fault:
                self.fault_counts[record.fault] = self.fault_counts.get(record.fault, 0) + 1
            self.output_tokens_total += record.output_tokens

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            return StatsSnapshot(self.requests_total, self.in_flight, self.peak_in_flight,
                                 dict(self.status_counts), dict(self.fault_counts), self.output_tokens_total)

    def records(self) -> list[RequestRecord]:
        """Copies, so a reader in another thread sees a consistent picture."""
        with self._lock:
            return [replace(r) for r in self.log]

    def reset(self) -> None:
        """Zero the counters and the log; requests still running keep counting as in flight."""
        with self._lock:
            self._reset(in_flight=self.in_flight)
