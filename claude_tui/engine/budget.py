"""The rate-limit budget: pace attempts ahead of the API's limits instead of reacting to its 429s.

Per model class there are three continuously refilled buckets (requests, input tokens, output
tokens) holding as many seconds of refill as the server's own buckets do, learned from the
``requests-remaining`` header (see ``Budget._learn_burst``). An attempt acquires 1 request, its estimated input tokens and its
``max_tokens`` before it is sent (the API itself charges OTPM at ``max_tokens`` on admission), and
refunds what the reply did not use when it ends, in a ``finally``: cancelled and failed attempts
refund too. Limits are learned from the ``anthropic-ratelimit-*-limit`` headers; ``*-remaining``
clamps a bucket down when someone else on the key spent what we did not; a 429 holds the whole
model class. Waiters are admitted in FIFO order per model class, so small jobs never starve a big
one. On top, an AIMD cap (Netflix concurrency-limits' AIMDLimit) trims concurrency after
429/529s, never above the user's limit.

The buckets live in a *store*: ``LocalStore`` here (one process) or ``RedisStore``
(``budget_redis``: every process on one Redis shares one budget per API key and model class).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Coroutine, Mapping, Protocol

from .models import find_model
from .errors import AttemptError
from .events import JobEvent, RateLimits, RateLimitSnapshot, Throttled, UsageUpdate
from .job import Job
from .ratelimits import parse_rate_limits

#: The three dimensions, in the order every store keeps them.
DIMENSIONS: tuple[str, str, str] = ("requests", "input_tokens", "output_tokens")
#: A budget held by a 429 reports this as its binding dimension.
HOLD = "retry_after"
#: Token ``remaining`` headers are rounded to the nearest thousand: the true figure is up to this much higher.
TOKEN_ROUNDING = 500.0
#: The 429 ``error.details.error_code`` of the API's ramp limit ("caps how fast usage can grow"; the SDKs
#: raise RampLimitExceededError for it): the budget slows its ramp when it sees one.
RAMP_LIMIT = "ramp_limit_exceeded"
#: The lowest fraction of the learned limits a ramp starts from (a cold ``slow_start``) or falls to.
RAMP_FLOOR = 0.25
#: Failures that mean "too much, too fast": they shrink the AIMD cap.
_CONGESTION = frozenset({"rate_limit", "overloaded"})

Emit = Callable[[JobEvent], None]
Triple = tuple[float, float, float]


def model_class(model: str) -> str:
    """The class a model's limits belong to (the API limits per class), from the shared model table.

    An id the table does not know falls back to its family name (opus / sonnet / haiku), else itself.
    """
    spec = find_model(model)
    if spec is not None:
        return spec.rate_class
    lowered = model.lower()
    for family in ("opus", "sonnet", "haiku"):
        if family in lowered:
            return family
    return lowered


def estimate_input_tokens(job: Job) -> int:
    """A cheap local estimate (≈ 4 characters a token, plus framing), corrected when usage arrives."""
    chars = len(job.system or "")
    for message in job.messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(str(block.get("text", ""))) for block in content if isinstance(block, dict))
    return 3 + 4 * len(job.messages) + math.ceil(chars / 4)


@dataclass(frozen=True, slots=True)
class Grant:
    """A store's answer to acquire: 0 wait = taken; else how long, and which dimension binds."""

    wait: float
    dimension: str | None = None
    levels: tuple[float | None, float | None, float | None] = (None, None, None)


class Store(Protocol):
    """Where buckets live. All amounts are ordered as DIMENSIONS; a limit of 0 = not limited."""

    mode: str  # "local" | "redis" | "local-fallback"
    reason: str  # why the mode is what it is ("" when it is what was asked for)
    peers: int  # live processes sharing the budget (1 when local)

    async def acquire(self, cls: str, cost: Triple, limits: Triple, burst: Triple) -> Grant: ...
    async def owe(self, cls: str, cost: Triple) -> None: ...
    async def settle(self, cls: str, refund: Triple, limits: Triple, burst: Triple) -> None: ...
    async def observe(self, cls: str, remaining: Triple, limits: Triple, burst: Triple) -> None: ...
    async def hold(self, cls: str, seconds: float, limits: Triple, burst: Triple) -> None: ...
    def levels(self, cls: str) -> tuple[float | None, ...]: ...
    async def aclose(self) -> None: ...


class _Buckets:
    """One model class's buckets in this process: the same arithmetic as the Redis script."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.levels: list[float | None] = [None, None, None]
        self.owed: list[float] = [0.0, 0.0, 0.0]  # taken before the limits were known (the probes)
        self.stamp = clock()
        self.hold_until = 0.0

    def refill(self, limits: Triple, burst: Triple) -> float:
        now = self.clock()
        elapsed = max(0.0, now - self.stamp)
        self.stamp = now
        for k, limit in enumerate(limits):
            if limit <= 0:
                self.levels[k] = None
                continue
            cap = limit * burst[k] / 60
            cur = self.levels[k]
            self.levels[k] = (cap if cur is None else min(cap, cur + elapsed * limit / 60)) - self.owed[k]
        self.owed = [0.0, 0.0, 0.0]  # applied (or, for a dimension without a limit, nothing to apply to)
        return now

    def owe(self, cost: Triple) -> None:
        """Take ``cost`` without limits to check it against: it comes off the buckets once they exist."""
        for k in range(3):
            self.owed[k] += cost[k]

    def acquire(self, cost: Triple, limits: Triple, burst: Triple) -> Grant:
        now = self.refill(limits, burst)
        if self.hold_until > now:
            return Grant(self.hold_until - now, HOLD, tuple(self.levels))  # type: ignore[arg-type]
        wait, binding = 0.0, None
        for k, limit in enumerate(limits):
            level = self.levels[k]
            if level is None:
                continue
            need = min(cost[k], limit * burst[k] / 60)  # a cost above capacity goes when the bucket is full
            if level < need:
                w = (need - level) / (limit / 60)
                if w > wait:
                    wait, binding = w, DIMENSIONS[k]
        if wait > 0:
            return Grant(wait, binding, tuple(self.levels))  # type: ignore[arg-type]
        for k in range(3):
            if self.levels[k] is not None:
                self.levels[k] -= cost[k]  # type: ignore[operator]  # may go into debt
        return Grant(0.0, None, tuple(self.levels))  # type: ignore[arg-type]

    def settle(self, refund: Triple, limits: Triple, burst: Triple) -> None:
        self.refill(limits, burst)
        for k, limit in enumerate(limits):
            if self.levels[k] is not None:
                self.levels[k] = min(limit * burst[k] / 60, self.levels[k] + refund[k])  # type: ignore[operator]

    def observe(self, remaining: Triple, limits: Triple, burst: Triple) -> None:
        self.refill(limits, burst)
        for k in range(3):
            level = self.levels[k]
            if level is not None and remaining[k] >= 0:
                self.levels[k] = min(level, remaining[k])

    def hold(self, seconds: float) -> None:
        self.hold_until = max(self.hold_until, self.clock() + seconds)


class LocalStore:
    """The buckets in this process only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, mode: str = "local", reason: str = "") -> None:
        self.clock = clock
        self.mode = mode
        self.reason = reason
        self.peers = 1
        self._classes: dict[str, _Buckets] = {}

    def _for(self, cls: str) -> _Buckets:
        buckets = self._classes.get(cls)
        if buckets is None:
            buckets = self._classes[cls] = _Buckets(self.clock)
        return buckets

    async def acquire(self, cls: str, cost: Triple, limits: Triple, burst: Triple) -> Grant:
        return self._for(cls).acquire(cost, limits, burst)

    async def owe(self, cls: str, cost: Triple) -> None:
        self._for(cls).owe(cost)

    async def settle(self, cls: str, refund: Triple, limits: Triple, burst: Triple) -> None:
        self._for(cls).settle(refund, limits, burst)

    async def observe(self, cls: str, remaining: Triple, limits: Triple, burst: Triple) -> None:
        self._for(cls).observe(remaining, limits, burst)

    async def hold(self, cls: str, seconds: float, limits: Triple, burst: Triple) -> None:
        self._for(cls).hold(seconds)

    def levels(self, cls: str) -> tuple[float | None, ...]:
        return tuple(self._classes[cls].levels) if cls in self._classes else (None, None, None)

    async def aclose(self) -> None:
        return None


# ---------------------------------------------------------------------------------------------
# What the UI and the bench read (cheap: built from counters, never awaits)


@dataclass(frozen=True, slots=True)
class DimensionState:
    limit: int | None  # per minute, as the budget applies it now (slow start included); None = unlimited
    learned: int | None  # the server's figure (or the configured one), before slow start and caps
    level: float | None  # tokens in the bucket (negative = debt)
    capacity: float | None
    pressure: float = 0.0  # mean fraction of the bucket in use just after each acquire (how hard the run pressed it)
    waited: float = 0.0  # seconds attempts waited on this dimension, summed

    @property
    def used(self) -> float:
        """Fraction of the bucket in use now (0 = full bucket, 1 = empty or in debt): the panel's bar."""
        if self.capacity is None or self.level is None or self.capacity <= 0:
            return 0.0
        return min(1.0, max(0.0, 1 - self.level / self.capacity))


@dataclass(frozen=True, slots=True)
class ClassState:
    model_class: str
    dimensions: Mapping[str, DimensionState]
    binding: str | None  # the dimension the last wait was for
    slow_start: float  # the fraction of the learned limits in force (1.0 = ramp done)
    held_until: float | None  # monotonic end of a 429 hold
    waiting: int  # attempts waiting on this budget now
    burst_seconds: float = 1.0  # the buckets' size in seconds of refill (learned from the server)
    replies: int = 0  # answered attempts whose usage the budget settled
    mean_output: float | None = None  # output tokens per reply
    p95_output: float | None = None
    mean_max_tokens: float | None = None  # what the replies reserved
    hold_seconds: float = 0.0  # time attempts waited on a 429's hold, summed
    ramp_downs: int = 0  # 429s ``ramp_limit_exceeded`` that halved the rate in force

    @property
    def run_binding(self) -> str | None:
        """The dimension attempts waited on longest over the run (a hold counts as ``retry_after``)."""
        waits = {dim: state.waited for dim, state in self.dimensions.items()}
        waits[HOLD] = self.hold_seconds
        dim, seconds = max(waits.items(), key=lambda item: item[1])
        return dim if seconds > 0 else None


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    classes: Mapping[str, ClassState]
    cap: int  # the AIMD concurrency cap
    user_limit: int  # the user's concurrency limit (the ceiling of the cap)
    in_flight: int
    mode: str  # "local" | "redis" | "local-fallback"
    reason: str  # e.g. "Redis unreachable"
    peers: int
    throttled: int  # Throttled events so far
    throttled_seconds: float  # time attempts spent waiting on the budget, summed

    @property
    def mode_text(self) -> str:
        """``limiter: local``, ``limiter: redis (3 processes)``, ``limiter: local — Redis unreachable``."""
        if self.mode == "redis":
            return f"limiter: redis ({self.peers} process{'es' if self.peers != 1 else ''})"
        return f"limiter: local — {self.reason}" if self.reason else "limiter: local"

    @property
    def main(self) -> ClassState | None:
        """The model class the panel shows: the one with the most replies (ties: the first seen)."""
        if not self.classes:
            return None
        return max(self.classes.values(), key=lambda c: c.replies)

    def summary_line(self) -> str:
        """The `run` summary's line: the mode, and how much waiting the budget planned."""
        line = self.mode_text
        if self.throttled:
            line += f" · {self.throttled} budget wait{'s' if self.throttled != 1 else ''}, {self.throttled_seconds:.1f} s in all"
        if self.cap < self.user_limit:
            line += f" · concurrency cap {self.cap} of {self.user_limit}"
        return line


# ---------------------------------------------------------------------------------------------
# The budget


@dataclass(slots=True)
class _Class:
    """What this process knows about one model class."""

    name: str
    learned: list[int | None] = field(default_factory=lambda: [None, None, None])
    burst: float = 1.0  # seconds of refill the buckets hold (the server's, once learned)
    burst_learned: bool = False
    probing: bool = False  # limits unknown: one attempt at a time until a response teaches them
    unpaced: bool = False  # a response came without any limit headers: send freely
    ramp: float = 1.0
    ramp_from: float = 0.0  # monotonic start of the current clean interval
    ramp_downs: int = 0  # 429s ``ramp_limit_exceeded`` that slowed the ramp
    binding: str | None = None
    held_until: float | None = None
    waiting: int = 0
    queue: deque[object] = field(default_factory=deque)  # waiters in arrival order (FIFO admission)
    head_deadline: float | None = None  # when the waiter at the head expects room
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    waited: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    hold_seconds: float = 0.0
    pressed: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # Σ bucket-in-use samples
    samples: int = 0
    replies: int = 0
    output_sum: float = 0.0
    max_tokens_sum: float = 0.0
    outputs: deque[int] = field(default_factory=lambda: deque(maxlen=500))  # recent reply lengths (p95)


class Budget:
    """Pace attempts per model class; one per pool (pass ``budget=`` to RequestPool).

    ``limits`` sets limits up front (per minute, by dimension name); ``caps`` caps the learned ones
    lower.

    Ramping: the API caps how fast usage may grow and says so with a 429 whose
    ``error.details.error_code`` is ``ramp_limit_exceeded``. On one, the budget halves the rate in
    force (floor: a quarter of the limits) and doubles it back every ``ramp_seconds`` without a
    429. ``slow_start=True`` also starts a cold budget at a quarter, before any such 429. Off by
    default, measured: the pre-emptive ramp cost 27–42 % of the limit on 3-minute bench runs
    (72.6 % and 57.6 % against 103.3 % and 109.1 % without) and made 4 chats in the app take
    23.8 s instead of 14.7 s, to avoid at most one 429 whose ``retry-after`` the budget honours
    for the whole class anyway.

    Bucket size: ``burst_seconds`` until the server shows its own (``learn_burst``), then the
    server's; ``token_burst_seconds`` pins the token buckets' size instead (tests).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        burst_seconds: float = 1.0,
        token_burst_seconds: float | None = None,
        learn_burst: bool = True,
        limits: Mapping[str, int] | None = None,
        caps: Mapping[str, int] | None = None,
        slow_start: bool = False,
        ramp_seconds: float = 60.0,
        user_limit: int = 5,
        poll_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst_seconds <= 0 or (token_burst_seconds is not None and token_burst_seconds <= 0):
            raise ValueError("burst seconds must be > 0")
        self.store: Store = store or LocalStore(clock)
        self.burst_seconds = burst_seconds
        self.token_burst_seconds = token_burst_seconds
        self.learn_burst = learn_burst
        self.preset = _triple_of(limits)
        self.caps = _triple_of(caps)
        self.slow_start = slow_start
        self.ramp_seconds = ramp_seconds
        self.user_limit = user_limit
        self.cap = user_limit
        self.in_flight = 0
        self.poll = poll_seconds  # how often a waiter re-asks a shared store (refunds elsewhere wake no one here)
        self.clock = clock
        self.throttled = 0
        self.throttled_seconds = 0.0
        self._classes: dict[str, _Class] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._cap_started = False

    # -- concurrency -----------------------------------------------------------------------
    def slots(self, user_limit: int) -> int:
        """How many jobs the pool may run: the AIMD cap, never above the user's limit."""
        if not self._cap_started:  # the cap starts at the pool's limit and only AIMD moves it down
            self._cap_started, self.cap = True, user_limit
        self.user_limit = user_limit
        self.cap = max(1, min(self.cap, user_limit))
        return self.cap

    def _congested(self) -> None:
        self.cap = max(1, min(self.cap - 1, math.floor(self.cap * 0.9)))

    def _completed(self, in_flight: int) -> None:
        """AIMD's increase; ``in_flight`` counts the completing attempt (Netflix's AIMDLimit samples it
        in flight: without it a cap trimmed to 1 found 0 in flight on every completion and never grew)."""
        if in_flight * 2 >= self.cap:
            self.cap = min(self.user_limit, self.cap + 1)

    # -- limits ----------------------------------------------------------------------------
    def _class(self, name: str) -> _Class:
        state = self._classes.get(name)
        if state is None:
            state = self._classes[name] = _Class(name, list(self.preset), burst=self.burst_seconds,
                                                 ramp=RAMP_FLOOR if self.slow_start else 1.0, ramp_from=self.clock())
        return state

    def _known(self, state: _Class) -> bool:
        return any(v is not None for v in state.learned)

    def _burst(self, state: _Class) -> Triple:
        tokens = state.burst if self.token_burst_seconds is None else self.token_burst_seconds
        return (state.burst, tokens, tokens)

    def _limits(self, state: _Class) -> Triple:
        """Per-minute limits in force now: learned (or preset), capped, times the slow-start ramp."""
        if state.ramp < 1.0 and self.clock() - state.ramp_from >= self.ramp_seconds:
            state.ramp = min(1.0, state.ramp * 2)
            state.ramp_from = self.clock()
        out = []
        for k in range(3):
            learned, cap = state.learned[k], self.caps[k]
            limit = learned if cap is None else (cap if learned is None else min(learned, cap))
            out.append(0.0 if limit is None else max(1e-3, limit * state.ramp))
        return out[0], out[1], out[2]

    def _ramp_down(self, state: _Class) -> None:
        """The API said usage grew too fast (a 429 ``ramp_limit_exceeded``): halve the rate in force, floor
        a quarter of the limits, and climb back by doubling each clean ``ramp_seconds`` (TCP's answer to a
        loss, on the rate). The 429's ``retry-after`` still holds the whole class first."""
        state.ramp = max(RAMP_FLOOR, state.ramp / 2)
        state.ramp_from = self.clock()
        state.ramp_downs += 1

    def _learn(self, state: _Class, snap: RateLimitSnapshot) -> None:
        for k, value in enumerate((snap.requests_limit, snap.input_tokens_limit, snap.output_tokens_limit)):
            if value is not None and value > 0 and self.preset[k] is None:
                state.learned[k] = value
        self._learn_burst(state, snap)

    def _learn_burst(self, state: _Class, snap: RateLimitSnapshot) -> None:
        """Size the buckets as the server sizes its own: ``(requests-remaining + 1) × 60 / limit`` seconds.

        Why: a bucket smaller than the server's serialises reservations and wastes the limit; a
        bigger one sends bursts the server answers with 429s. The request count is exact (token
        counts are rounded to the thousand) and, right after one of our requests was admitted,
        ``remaining + 1`` can only be at most the server's capacity, so the largest figure seen
        converges on it from below and never overshoots (another client on the key only makes it
        smaller, so safer). The API applies one bucket length to every dimension (the simulator
        too), so the token buckets take the same size.
        Measured (bench rate-limit, 60 RPM + 3,000 OTPM, server buckets of 10 s, max_tokens 256,
        replies ≈ 45 tokens; see BENCHMARKS.md): token buckets of 1 s ran one request at a time
        (each 256-token reservation emptied a 50-token bucket) at ≈ 52 of 60 RPM; of 60 s they
        sent bursts the server refused; the learned 10 s is the only size that reached the limit
        with no 429.
        """
        if not self.learn_burst or not snap.requests_limit or not snap.requests_remaining:
            # remaining 0: the bucket may be a one-request floor (the simulator's is, below 60/burst
            # RPM) whose seconds say nothing of the token buckets' size: keep what we have
            return
        seconds = min(60.0, (snap.requests_remaining + 1) * 60 / snap.requests_limit)
        # the first figure replaces the configured guess (which may be bigger than the server's); later ones
        # only raise it, towards the server's capacity
        state.burst = max(state.burst, seconds) if state.burst_learned else seconds
        state.burst_learned = True

    # -- attempts --------------------------------------------------------------------------
    @asynccontextmanager
    async def attempt(self, job: Job, emit: Emit) -> AsyncIterator[Emit]:
        """Acquire before the attempt, settle after it; yields the emit to give ``run_attempt``."""
        state = self._class(model_class(job.model))
        estimate = estimate_input_tokens(job)
        cost = (1.0, float(estimate), float(job.max_tokens))
        probe = await self._acquire(state, job, cost, emit)
        seen: dict[str, object] = {}

        def watch(event: JobEvent) -> None:
            if isinstance(event, RateLimits):
                seen["headers"] = event.snapshot
                self._learn(state, event.snapshot)
                self._spawn(self._observe(state, event.snapshot))
            elif isinstance(event, UsageUpdate):
                seen["usage"] = event.usage
            emit(event)

        self.in_flight += 1
        error: BaseException | None = None
        try:
            yield watch
        except BaseException as exc:
            error = exc
            raise
        finally:
            in_flight = self.in_flight  # with this attempt: what AIMD's increase samples
            self.in_flight -= 1
            if probe:
                state.probing = False
                if "headers" in seen and not self._known(state):
                    state.unpaced = True  # the server sends no limits (a proxy?): nothing to pace by
            # Shielded: a second cancel while a shared store answers must not lose the refund.
            await asyncio.shield(self._settle(state, job, cost, seen, error, in_flight, probe))

    async def _acquire(self, state: _Class, job: Job, cost: Triple, emit: Emit) -> bool:
        """Wait until the budget has room; True if this attempt is the probe that learns the limits.

        FIFO per model class: only the waiter at the head of the queue asks the store; the others
        wait for it to go. Otherwise a stream of small jobs, each fitting the bucket as it refills,
        would keep a big job (a long prompt, a large max_tokens) waiting for ever.
        """
        announced: float | None = None
        ticket = object()
        state.queue.append(ticket)
        state.waiting += 1
        try:
            while True:
                if state.queue[0] is not ticket:
                    # Behind another waiter: wait for the head to go (it sets `changed`).
                    now = self.clock()
                    deadline = max(state.head_deadline or now, now)
                    if announced is None or abs(deadline - announced) > 0.25:
                        announced = deadline
                        self.throttled += 1
                        emit(Throttled(job_id=job.id, at=now, dimension=state.binding or "requests", delay=deadline - now,
                                       deadline=deadline, model_class=state.name))
                    state.changed.clear()
                    try:
                        await asyncio.wait_for(state.changed.wait(), timeout=self.poll)
                    except TimeoutError:
                        pass
                    self._waited(state, state.binding, self.clock() - now)
                    continue
                if state.unpaced and not self._known(state):
                    return False
                if not self._known(state):
                    if not state.probing:
                        state.probing = True
                        # Owed to the store before it goes, applied when the limits are known: charged
                        # after its headers instead, a waiter here (or in a peer process, whose own probe
                        # was just as uncharged) could draw on a full bucket in between that the server no
                        # longer had — the 429s of the bench's OTPM and shared-limit cases (244 of 500
                        # output tokens left; 2.9 429s per 100 attempts across 4 processes).
                        await self.store.owe(state.name, cost)
                        return True
                    grant = Grant(self.poll, HOLD if state.held_until else "requests")
                else:
                    limits = self._limits(state)
                    grant = await self.store.acquire(state.name, cost, limits, self._burst(state))
                    self._sample(state, grant)
                if grant.wait <= 0:
                    return False
                now = self.clock()
                deadline = now + grant.wait
                state.binding = grant.dimension
                state.head_deadline = deadline
                if announced is None or abs(deadline - announced) > 0.25:
                    announced = deadline
                    self.throttled += 1
                    emit(Throttled(job_id=job.id, at=now, dimension=grant.dimension or "requests", delay=grant.wait,
                                   deadline=deadline, model_class=state.name))
                state.changed.clear()
                pause = grant.wait if self.store.mode != "redis" else min(grant.wait, self.poll)
                try:
                    await asyncio.wait_for(state.changed.wait(), timeout=pause)
                except TimeoutError:
                    pass
                self._waited(state, grant.dimension, self.clock() - now)
        finally:
            state.waiting -= 1
            if state.queue and state.queue[0] is ticket:
                state.head_deadline = None
            state.queue.remove(ticket)
            state.changed.set()  # the next waiter is at the head now

    def _waited(self, state: _Class, dimension: str | None, seconds: float) -> None:
        self.throttled_seconds += seconds
        if dimension == HOLD:
            state.hold_seconds += seconds
        elif dimension in DIMENSIONS:
            state.waited[DIMENSIONS.index(dimension)] += seconds

    def _sample(self, state: _Class, grant: Grant) -> None:
        """How much of each bucket was in use when an attempt asked (the run's pressure per dimension)."""
        limits, burst = self._limits(state), self._burst(state)
        state.samples += 1
        for k, level in enumerate(grant.levels):
            if level is not None and limits[k] > 0:
                capacity = limits[k] * burst[k] / 60
                # the level after a take (or, for a wait, what was there): 1 = the attempt emptied it
                state.pressed[k] += min(1.0, max(0.0, 1 - level / capacity))

    async def _settle(self, state: _Class, job: Job, cost: Triple, seen: dict[str, object], error: BaseException | None,
                      in_flight: int, probe: bool = False) -> None:
        usage = seen.get("usage")
        answered = "headers" in seen
        if isinstance(error, AttemptError) and not answered:
            # Rejected before a stream began (429, 529, refused connection): the server charged nothing.
            refund: Triple = cost
        else:
            inp = getattr(usage, "input_tokens", None)
            out = getattr(usage, "output_tokens", 0) or 0
            counted_in = cost[1] if inp is None else inp + getattr(usage, "cache_creation_input_tokens", 0)
            refund = (0.0, cost[1] - counted_in, max(0.0, cost[2] - out))
            if usage is not None and error is None:
                state.replies += 1
                state.output_sum += out
                state.max_tokens_sum += cost[2]
                state.outputs.append(int(out))
        if isinstance(error, AttemptError) and error.kind in _CONGESTION:
            self._congested()
            wait = error.retry_after if error.kind == "rate_limit" else None
            if error.kind == "rate_limit" and _error_code(error) == RAMP_LIMIT:
                self._ramp_down(state)
            headers = _headers_of(error)
            if headers is not None:
                snap = parse_rate_limits(headers)
                self._learn(state, snap)
                if wait is None:
                    wait = _latest_exhausted_reset(snap)
            if error.kind == "rate_limit" and state.ramp < 1.0:
                state.ramp_from = self.clock()  # not a clean interval: the ramp waits another one (ramp_down restarted it too)
            if wait:
                state.held_until = self.clock() + wait
                await self.store.hold(state.name, wait, self._limits(state), self._burst(state))
        elif error is None:
            self._completed(in_flight)
        if self._known(state) and any(refund):
            await self.store.settle(state.name, refund, self._limits(state), self._burst(state))
        elif probe and any(refund):
            # a probe refused before its headers (a 429, a refused connection) takes back what it owed:
            # retried probes must not pile up debt for the buckets to start with
            await self.store.owe(state.name, (-refund[0], -refund[1], -refund[2]))
        state.changed.set()

    async def _observe(self, state: _Class, snap: RateLimitSnapshot) -> None:
        # What the server says remains, in absolute units: the buckets never hold more than that
        # (someone else on the key spent what we did not see). Clamping only lowers a level. Token
        # counts come rounded to the nearest thousand, so they clamp at remaining + 500, the most
        # the server can hold: clamping at the rounded figure itself emptied a 500-token bucket on
        # every reply (remaining 0 for any level under 500) and ran a 3,000 OTPM budget one request
        # at a time. Request counts are whole numbers, the server's level floored: it holds up to one
        # more, and clamping at the floor threw away, on every reply, the refill since that request
        # went (p99 of 200 prompts at 120 RPM 0.7 s behind the guide's).
        remaining = (
            -1.0 if snap.requests_remaining is None else snap.requests_remaining + 1.0,
            -1.0 if snap.input_tokens_remaining is None else snap.input_tokens_remaining + TOKEN_ROUNDING,
            -1.0 if snap.output_tokens_remaining is None else snap.output_tokens_remaining + TOKEN_ROUNDING,
        )
        if self._known(state):
            await self.store.observe(state.name, remaining, self._limits(state), self._burst(state))
            state.changed.set()

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- reading ---------------------------------------------------------------------------
    def snapshot(self) -> BudgetSnapshot:
        """Everything the stats panel, the `run` summary and the bench show, read without awaiting."""
        classes = {}
        for name, state in self._classes.items():
            limits = self._limits(state)
            burst = self._burst(state)
            levels = self.store.levels(name)
            dims = {}
            for k, dim in enumerate(DIMENSIONS):
                limit = limits[k]
                learned, cap = state.learned[k], self.caps[k]
                dims[dim] = DimensionState(
                    limit=round(limit) if limit else None,
                    learned=learned if cap is None else (cap if learned is None else min(learned, cap)),
                    level=levels[k],
                    capacity=limit * burst[k] / 60 if limit else None,
                    pressure=state.pressed[k] / state.samples if state.samples else 0.0,
                    waited=state.waited[k],
                )
            held = state.held_until if state.held_until and state.held_until > self.clock() else None
            outputs = sorted(state.outputs)
            classes[name] = ClassState(
                name, dims, state.binding, state.ramp, held, state.waiting, burst[0], state.replies,
                state.output_sum / state.replies if state.replies else None,
                float(outputs[min(len(outputs) - 1, int(len(outputs) * 0.95))]) if outputs else None,
                state.max_tokens_sum / state.replies if state.replies else None,
                state.hold_seconds, state.ramp_downs,
            )
        return BudgetSnapshot(
            classes, self.cap, self.user_limit, self.in_flight, self.store.mode, self.store.reason, self.store.peers,
            self.throttled, self.throttled_seconds,
        )

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.store.aclose()


def _triple_of(values: Mapping[str, int] | None) -> list[int | None]:
    values = values or {}
    unknown = set(values) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown budget dimension(s): {', '.join(sorted(unknown))}")
    return [values.get(dim) or None for dim in DIMENSIONS]


def _error_code(error: AttemptError) -> str | None:
    """``error.details.error_code`` of the API's error body (``ramp_limit_exceeded``, ...), if any."""
    body = getattr(error.__cause__, "body", None)
    err = body.get("error", body) if isinstance(body, dict) else None
    details = err.get("details") if isinstance(err, dict) else None
    code = details.get("error_code") if isinstance(details, dict) else None
    return code if isinstance(code, str) else None


def _headers_of(error: AttemptError) -> Mapping[str, str] | None:
    response = getattr(error.__cause__, "response", None)
    return getattr(response, "headers", None)


def _latest_exhausted_reset(snap: RateLimitSnapshot) -> float | None:
    """Seconds until the latest ``*-reset`` among the dimensions with nothing remaining."""
    resets = [
        reset
        for remaining, reset in (
            (snap.requests_remaining, snap.requests_reset),
            (snap.input_tokens_remaining, snap.input_tokens_reset),
            (snap.output_tokens_remaining, snap.output_tokens_reset),
        )
        if remaining == 0 and reset is not None
    ]
    if not resets:
        return None
    return max(0.0, max(resets) - time.time())
