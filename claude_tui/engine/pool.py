"""RequestPool: bounded concurrency, a FIFO queue, a live-resizable limit, cancel — and one event stream.

Every job's events go to every listener (TUI, metrics, history, headless output) and, if asked,
to the job's own handle — except the streamed text (``TextDelta``, ``ThinkingDelta``: most of all
events), which goes only to listeners that subscribed with ``deltas=True`` and to the handle. Retries are the engine's (tenacity); the SDK client is built with
``max_retries=0`` so no failure is retried invisibly.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, AsyncIterator, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from .attempt import AttemptResult, AttemptState, run_attempt
from .eager_write import start_body_writes_eagerly
from .errors import AttemptError
from .events import (
    AttemptFailed,
    BackingOff,
    Cancelled,
    Done,
    Failed,
    JobEvent,
    Queued,
    Submitted,
    TextDelta,
    ThinkingDelta,
    Timings,
    is_terminal,
)
from .job import Job
from .pricing import PriceTable
from .retry import RetryPolicy, is_connection, is_paced, spends_no_attempt

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

    from .budget import Budget

_log = logging.getLogger("claude_tui.engine")

Listener = Callable[[JobEvent], None]
Terminal = Done | Failed | Cancelled

#: The streamed-text events: one per token or so, wanted only by who shows or saves the text.
DELTAS: frozenset[type[JobEvent]] = frozenset({TextDelta, ThinkingDelta})

#: Queue positions are re-announced for this many jobs at the head of the queue; jobs further
#: back hear their position when they get this close (keeps a 10,000-prompt run linear: at 200
#: these updates were 79 % of all events in the scaling benchmark).
POSITION_UPDATES_FOR = 32


class JobHandle:
    """The submitter's view of one job: its events (if streamed) and its outcome."""

    def __init__(self, job: Job, *, stream_events: bool) -> None:
        self.job = job
        self._queue: asyncio.Queue[JobEvent] | None = asyncio.Queue() if stream_events else None
        self._outcome: asyncio.Future[Terminal] = asyncio.get_running_loop().create_future()
        self._pool: RequestPool | None = None

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def done(self) -> bool:
        return self._outcome.done()

    def _deliver(self, event: JobEvent) -> None:
        if self._queue is not None:
            self._queue.put_nowait(event)
        if is_terminal(event) and not self._outcome.done():
            self._outcome.set_result(event)  # type: ignore[arg-type]

    async def events(self) -> AsyncIterator[JobEvent]:
        """Every event of this job, ending with its terminal event."""
        if self._queue is None:
            raise RuntimeError("this job was submitted with stream_events=False")
        while True:
            event = await self._queue.get()
            yield event
            if is_terminal(event):
                return

    async def result(self) -> Terminal:
        return await asyncio.shield(self._outcome)

    def cancel(self) -> bool:
        return self._pool.cancel(self.job.id) if self._pool else False


class _Entry:
    __slots__ = ("job", "handle", "submitted", "task", "state", "last_failure", "attempts", "paced", "paced_wait",
                 "connect_wait")

    def __init__(self, job: Job, handle: JobHandle, submitted: float) -> None:
        self.job = job
        self.handle = handle
        self.submitted = submitted
        self.task: asyncio.Task[None] | None = None
        self.state: AttemptState | None = None
        self.last_failure: AttemptError | None = None
        self.attempts = 0
        self.paced = 0  # attempts that spend none of max_attempts: paced 429s, connection failures
        self.paced_wait = 0.0  # seconds waited on any server's retry-after, bounded by the patience
        self.connect_wait = 0.0  # seconds waited on connection failures, bounded by connect_patience


class RequestPool:
    def __init__(
        self,
        client: "AsyncAnthropic | None" = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        limit: int = 5,
        policy: RetryPolicy | None = None,
        stall_timeout: float | None = 30.0,
        prices: PriceTable | None = None,
        budget: "Budget | None" = None,
        defer_client: bool = False,
    ) -> None:
        """``defer_client=True``: the pool takes jobs at once (they queue, with their events) and starts
        none until ``await open_client()`` has imported the SDK off the event loop — the TUI mounts in
        ~0.1 s while the SDK import takes over a second."""
        self._client_args = (api_key, base_url)
        self._client: "AsyncAnthropic | None" = None if defer_client and client is None else self._connect(client)
        self._limit = _check_limit(limit)
        self.policy = policy or RetryPolicy()
        self.stall_timeout = stall_timeout
        self.prices = prices or PriceTable()
        self.budget = budget  # None: no pacing, only the reactive retries (`--limiter off`)
        self._waiting: deque[_Entry] = deque()
        self._running: dict[str, _Entry] = {}
        self._listeners: list[tuple[Listener, bool]] = []  # (listener, wants deltas), in order added
        self._all: tuple[Listener, ...] = ()  # what _emit calls for most events ...
        self._text: tuple[Listener, ...] = ()  # ... and for TextDelta / ThinkingDelta
        self._critical: set[Listener] = set()
        self._announce_from: int | None = None  # queue positions to re-announce at the end of this loop turn
        self._closed = False
        #: The first error raised by a critical listener; once set, the pool has cancelled its work.
        self.fatal: BaseException | None = None
        self._fatal_event = asyncio.Event()

    def _connect(self, client: "AsyncAnthropic | None") -> "AsyncAnthropic":
        """The SDK client every attempt uses; never one that retries on its own."""
        api_key, base_url = self._client_args
        if client is None:
            from anthropic import AsyncAnthropic, DefaultAioHttpClient  # on first use: the slowest import we have

            # The SDK's aiohttp transport (aiohttp is already ours, for the simulator): at 200 in
            # flight it cost 2.2–2.9 ms of client CPU per request against 4.2–5.0 ms for the default
            # httpx one, whose pool rescans every pooled connection (a poll() each) for every request;
            # a keep-alive limit sized to the pool made that scan longer, not shorter (5.4–6.4 ms).
            # Measured with benchmarks/bench_transport.py, machine shared (load 7–10).
            # Its one cost, on Python < 3.12 only: aiohttp writes each request (headers buffered with
            # the body) from a task of its own, which runs after everything already ready on the
            # loop; eager_write starts that task at once, as aiohttp does on 3.12 (see there).
            client = AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0, http_client=DefaultAioHttpClient())
            try:
                start_body_writes_eagerly(asyncio.get_running_loop())
            except RuntimeError:  # built outside a loop: the requests are sent all the same
                pass
        elif client.max_retries != 0:
            client = client.with_options(max_retries=0)
        return client

    async def open_client(self) -> None:
        """Build the deferred SDK client (its import in a thread) and start the jobs queued meanwhile."""
        if self._client is not None or self._closed:
            return
        await asyncio.to_thread(importlib.import_module, "anthropic")
        if self._closed:
            return
        self._client = self._connect(None)
        self._pump()

    @property
    def client_ready(self) -> bool:
        return self._client is not None

    @property
    def closed(self) -> bool:
        """``aclose()`` has begun: no more jobs are taken."""
        return self._closed

    # -- observation -------------------------------------------------------------------------
    def add_listener(self, listener: Listener, *, critical: bool = False, deltas: bool = False) -> Callable[[], None]:
        """Call ``listener(event)`` for every event of every job; returns an unsubscribe function.

        ``TextDelta`` and ``ThinkingDelta`` (the reply as it streams, most of all events) reach only
        listeners added with ``deltas=True`` — the ones that show or save the text; every other
        consumer has the whole text in ``Done`` / ``Failed`` / ``Cancelled``. A job's own handle
        (``submit(..., stream_events=True)``) always gets them.

        A best-effort listener (UI stats, history, log) that raises is logged and ignored: a faulty
        consumer must not fail the requests it watches. A ``critical`` listener is one whose work
        *is* the point (the results file): if it raises, the pool records the error in ``fatal``,
        cancels everything queued and running, and ``wait_fatal()`` returns it — otherwise a run
        whose results cannot be written would keep paying for replies it loses, or wait forever.
        """
        entry = (listener, deltas)
        self._listeners.append(entry)
        if critical:
            self._critical.add(listener)
        self._routes()

        def unsubscribe() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)
                self._routes()
            self._critical.discard(listener)

        return unsubscribe

    def _routes(self) -> None:
        """Who hears what, worked out once per (un)subscribe rather than once per event."""
        self._all = tuple(fn for fn, _ in self._listeners)
        self._text = tuple(fn for fn, deltas in self._listeners if deltas)

    async def wait_fatal(self) -> BaseException:
        """Return the error that stopped the pool, once a critical listener has raised one."""
        await self._fatal_event.wait()
        assert self.fatal is not None
        return self.fatal

    def _emit(self, entry: _Entry, event: JobEvent) -> None:
        for listener in self._text if type(event) in DELTAS else self._all:
            try:
                listener(event)
            except Exception as exc:
                if listener in self._critical:
                    self._fail(exc)
                else:  # a faulty best-effort consumer must not fail the request it watches
                    _log.exception("event listener %r failed on %s", listener, type(event).__name__)
        entry.handle._deliver(event)

    def _fail(self, exc: BaseException) -> None:
        """A critical listener failed: keep the first error, stop all work (once, not re-entrantly)."""
        if self.fatal is not None:
            return  # the Cancelled events of the shutdown fail the same way; the first error says it all
        self.fatal = exc
        self._fatal_event.set()
        try:
            asyncio.get_running_loop().call_soon(self.cancel_all)
        except RuntimeError:  # no loop (a synchronous caller): cancel now
            self.cancel_all()

    # -- capacity ----------------------------------------------------------------------------
    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        """Raise to start queued jobs now; lower to start fewer later (running jobs are never killed)."""
        self._limit = _check_limit(value)
        self._pump()

    @property
    def in_flight(self) -> int:
        return len(self._running)

    @property
    def queued(self) -> int:
        return len(self._waiting)

    @property
    def client(self) -> "AsyncAnthropic":
        if self._client is None:
            raise RuntimeError("the SDK client is not open yet (RequestPool(defer_client=True): await open_client())")
        return self._client

    # -- submission --------------------------------------------------------------------------
    def submit(self, job: Job, *, stream_events: bool = True) -> JobHandle:
        """Queue a job (FIFO). With ``stream_events=False`` the handle keeps no event backlog."""
        if self._closed:
            raise RuntimeError("the pool is closed")
        if self.fatal is not None:
            raise RuntimeError(f"the pool stopped: {self.fatal}") from self.fatal
        handle = JobHandle(job, stream_events=stream_events)
        handle._pool = self
        entry = _Entry(job, handle, time.monotonic())
        self._waiting.append(entry)
        self._emit(entry, Submitted(job.id, entry.submitted, job))
        self._emit(entry, Queued(job.id, entry.submitted, len(self._waiting) - 1))
        self._pump()
        return handle

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; its Cancelled event keeps what it streamed."""
        for index, entry in enumerate(self._waiting):
            if entry.job.id == job_id:
                del self._waiting[index]
                now = time.monotonic()
                self._emit(entry, Cancelled(job_id=job_id, at=now, partial_text="", attempts=0,
                                            timings=Timings(entry.submitted, finished=now)))
                self._announce_positions(start=index)
                return True
        running = self._running.get(job_id)
        if running is not None and running.task is not None and not running.task.done():
            running.task.cancel()
            return True
        return False

    def cancel_all(self) -> None:
        for entry in list(self._waiting) + list(self._running.values()):
            self.cancel(entry.job.id)

    async def aclose(self) -> None:
        """Cancel everything still queued or running, wait for it to settle, close the client."""
        self._closed = True
        tasks = [e.task for e in self._running.values() if e.task]
        self.cancel_all()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()

    # -- scheduling --------------------------------------------------------------------------
    def _pump(self) -> None:
        started = 0
        while self._waiting and len(self._running) < self._slots():
            entry = self._waiting.popleft()
            self._running[entry.job.id] = entry
            entry.task = asyncio.get_running_loop().create_task(self._run(entry), name=f"claude-tui {entry.job.id}")
            started += 1
        if started:
            self._announce_positions(start=0)

    def _announce_positions(self, start: int) -> None:
        """Positions from ``start`` on have moved: re-announce them when this loop turn ends, once
        for every start and cancel of the turn (read then, so a job that started meanwhile hears
        nothing stale). Each announcement is up to POSITION_UPDATES_FOR events: per start, that was
        32 of the 57 events of a request at 100 in flight."""
        if self._announce_from is not None:
            self._announce_from = min(self._announce_from, start)
            return
        self._announce_from = start
        try:
            asyncio.get_running_loop().call_soon(self._announce)
        except RuntimeError:  # no loop (a synchronous caller): now
            self._announce()

    def _announce(self) -> None:
        start, self._announce_from = self._announce_from, None
        if start is None:
            return
        now = time.monotonic()
        for position in range(start, min(len(self._waiting), POSITION_UPDATES_FOR)):
            entry = self._waiting[position]
            self._emit(entry, Queued(entry.job.id, now, position))

    async def _run(self, entry: _Entry) -> None:
        try:
            outcome: Terminal = await self._attempts(entry)
        except asyncio.CancelledError:
            outcome = self._cancelled(entry)
        finally:
            self._running.pop(entry.job.id, None)
        self._emit(entry, outcome)
        if not self._closed and self.fatal is None:
            self._pump()

    async def _attempts(self, entry: _Entry) -> Done | Failed:
        job = entry.job
        policy = self.policy
        def give_up(retry_state: RetryCallState) -> bool:
            # tenacity has already computed the wait (``upcoming_sleep``): a wait the budget cannot
            # afford ends the job now, with a message that says why, instead of sleeping for years.
            error = retry_state.outcome.exception() if retry_state.outcome else None
            assert isinstance(error, AttemptError)
            delay = retry_state.upcoming_sleep
            if error.retry_after is not None:
                if entry.paced_wait + delay > policy.rate_limit_patience:
                    if entry.paced_wait == 0 or delay > policy.rate_limit_patience:  # this one wait is too long
                        said = f"server asked to wait {_duration(error.retry_after)} (retry-after)"
                    else:  # many short ones added up ("retry-after: 0" on every answer said "wait 0 s")
                        said = f"server still asking to wait after {entry.paced_wait:.1f} s of retry-after waits"
                    error.message = f"{error.message}; {said}; over the {policy.rate_limit_patience:g} s patience"
                    return True
                if is_paced(error):
                    return False
            elif is_connection(error):
                if entry.connect_wait + delay > policy.connect_patience:
                    error.message = f"{error.message}; still unreachable after {entry.connect_wait:.0f} s of retrying"
                    return True
                return False
            return entry.attempts - entry.paced >= policy.max_attempts

        retrying = AsyncRetrying(
            stop=give_up,
            wait=policy.wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, AttemptError) and exc.retryable),
            before_sleep=lambda state: self._backing_off(entry, state),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    entry.attempts += 1
                    entry.state = AttemptState(entry.attempts, time.monotonic())
                    try:
                        result = await self._send(entry)
                    except AttemptError as error:
                        entry.last_failure = error
                        if spends_no_attempt(error):
                            entry.paced += 1
                        self._emit(entry, self._attempt_failed(entry, error))
                        raise
        except AttemptError as error:
            now = time.monotonic()
            state = entry.state
            return Failed(
                job_id=job.id,
                at=now,
                kind=error.kind,
                message=error.message,
                status_code=error.status_code,
                retryable=error.retryable,
                partial_text=error.partial_text,
                attempts=entry.attempts,
                request_id=error.request_id,
                timings=Timings(entry.submitted, state.started if state else None, state.first_token if state else None, now),
                usage=error.usage,
            )
        timings = Timings(entry.submitted, result.started, result.first_token, result.finished)
        return Done(
            job_id=job.id,
            at=result.finished,
            text=result.text,
            thinking=result.thinking,
            usage=result.usage,
            stop_reason=result.stop_reason,
            model=result.model,
            request_id=result.request_id,
            attempts=entry.attempts,
            timings=timings,
            cost=self.prices.cost(result.model, result.usage),
        )

    def _slots(self) -> int:
        if self._client is None:  # deferred: jobs wait in the queue until open_client()
            return 0
        return self.budget.slots(self._limit) if self.budget is not None else self._limit

    async def _send(self, entry: _Entry) -> AttemptResult:
        """One attempt; with a budget it first waits for room, and settles what it used after."""
        assert entry.state is not None
        emit: Callable[[JobEvent], None] = lambda ev: self._emit(entry, ev)
        # A text delta is built only if a listener or the handle will hear it: `run` and the workers
        # stream thousands of replies that only their Done events are wanted for.
        streams = entry.handle._queue is not None
        wants_deltas: Callable[[], bool] = lambda: streams or bool(self._text)
        client = self.client
        if self.budget is None:
            return await run_attempt(client, entry.job, entry.state, emit, stall_timeout=self.stall_timeout,
                                     attempt_timeout=self.policy.attempt_timeout, wants_deltas=wants_deltas)
        async with self.budget.attempt(entry.job, emit) as watched:
            entry.state.started = time.monotonic()  # the request goes now: budget waits are not latency
            return await run_attempt(client, entry.job, entry.state, watched, stall_timeout=self.stall_timeout,
                                     attempt_timeout=self.policy.attempt_timeout, wants_deltas=wants_deltas)

    def _attempt_failed(self, entry: _Entry, error: AttemptError) -> AttemptFailed:
        state = entry.state
        assert state is not None
        now = time.monotonic()
        return AttemptFailed(
            job_id=entry.job.id,
            at=now,
            attempt=state.number,
            kind=error.kind,
            message=error.message,
            status_code=error.status_code,
            retryable=error.retryable,
            request_id=error.request_id,
            partial_text=error.partial_text,
            usage=error.usage,
            started=state.started,
            ended=now,
        )

    def _backing_off(self, entry: _Entry, retry_state: RetryCallState) -> None:
        """tenacity's before_sleep: announce the exact moment of the next attempt, then it sleeps."""
        error = retry_state.outcome.exception() if retry_state.outcome else None
        assert isinstance(error, AttemptError)
        delay = retry_state.next_action.sleep if retry_state.next_action else 0.0
        if error.retry_after is not None:
            entry.paced_wait += delay
        elif is_connection(error):
            entry.connect_wait += delay
        now = time.monotonic()
        self._emit(
            entry,
            BackingOff(
                job_id=entry.job.id,
                at=now,
                attempt=retry_state.attempt_number,
                max_attempts=self.policy.max_attempts + entry.paced,
                delay=delay,
                deadline=now + delay,
                reason=error.kind,
                status_code=error.status_code,
                message=error.message,
                from_retry_after=self.policy.uses_retry_after(error),
            ),
        )

    def _cancelled(self, entry: _Entry) -> Cancelled:
        now = time.monotonic()
        state = entry.state
        text = state.text if state and state.text_parts else (entry.last_failure.partial_text if entry.last_failure else "")
        timings = Timings(entry.submitted, state.started if state else None, state.first_token if state else None, now)
        return Cancelled(job_id=entry.job.id, at=now, partial_text=text, attempts=entry.attempts, timings=timings)


def _duration(seconds: float) -> str:
    """27.8 h, 12.5 min, 40 s: a wait as a person reads it."""
    if seconds >= 7200:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:g} s"


def _check_limit(value: int) -> int:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"concurrency limit must be a positive integer, got {value!r}")
    return value
