"""Which fault (if any) a request gets: forced ones first (``inject``), then a seeded random draw."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

from .config import FAULT_KINDS, check_faults


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault chosen for one request.

    ``after_tokens``: output tokens streamed before a stream fault strikes (None = the
    simulator picks a point in the first half of the reply). ``retry_after``: seconds for
    ``rate_limit`` (None = the configured default).
    """

    kind: str
    retry_after: float | None = None
    after_tokens: int | None = None
    injected: bool = False


class FaultPlan:
    """Thread-safe: ``inject`` may be called from any thread while the server runs."""

    def __init__(self, rates: dict[str, float], seed: int) -> None:
        check_faults(rates)
        self._lock = threading.Lock()
        self._rates = dict(rates)
        self._rng = random.Random(f"faults:{seed}")
        self._forced: deque[Fault] = deque()

    def set_rates(self, rates: dict[str, float]) -> None:
        check_faults(rates)
        with self._lock:
            self._rates = dict(rates)

    def inject(self, kind: str, count: int = 1, retry_after: float | None = None,
               after_tokens: int | None = None) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (expected one of {', '.join(FAULT_KINDS)})")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must be >= 0, got {retry_after}")
        if after_tokens is not None and after_tokens < 0:
            raise ValueError(f"after_tokens must be >= 0, got {after_tokens}")
        with self._lock:
            for _ in range(count):
                self._forced.append(Fault(kind, retry_after, after_tokens, injected=True))

    def pending(self) -> int:
        with self._lock:
            return len(self._forced)

    def clear(self) -> None:
        with self._lock:
            self._forced.clear()

    def next(self) -> Fault | None:
        """The fault for the next request: a forced one, else one random draw against the rates."""
        with self._lock:
            if self._forced:
                return self._forced.popleft()
            if not self._rates:
                return None
            u = self._rng.random()
            edge = 0.0
            for kind, rate in self._rates.items():
                edge += rate
                if u < edge:
                    return Fault(kind)
            return None
