"""Running the simulator: in the current event loop, in a thread of its own, or as the CLI server."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from typing import Any, Callable

from aiohttp import web

from .app import ReplyHold, SimState
from .application import build
from .config import SimulatorConfig, is_loopback
from .faults import FaultPlan
from .ratelimit import RateLimiter
from .stats import RequestRecord, StatsSnapshot

_LIMIT_FIELDS = {"rpm", "itpm", "otpm", "burst"}


class Simulator:
    """An Anthropic-compatible server in the running event loop.

    ``await sim.start()`` binds (``config.port=0`` = a free port) and sets ``base_url``.
    The hooks (``inject``, ``stats``, ``request_log``, ``reset_stats``, ``configure``) are
    thread-safe, so a ``ThreadedSimulator`` can expose them directly.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.state = SimState(config or SimulatorConfig())
        self._runner: web.AppRunner | None = None
        self.base_url: str = ""
        self.port: int = 0

    @property
    def config(self) -> SimulatorConfig:
        return self.state.config

    async def start(self) -> str:
        if self._runner is not None:
            return self.base_url
        cfg = self.state.config
        # aiohttp arms keepalive_timeout when a connection opens and closes it if no whole request
        # head has arrived by then ("no other protection against a dead connection"): that is the
        # header timeout. Between requests it is the idle keep-alive limit as well.
        # Errors in request handling go to claude-tui's logger (aiohttp's default is its own, whose
        # lines reach stderr through logging's last resort): embedded, a traceback would tear through
        # `run`'s progress bar or the TUI; with no log file set up (`claude-tui simulate`) they
        # still reach the terminal the same way.
        runner = web.AppRunner(build(self.state), handler_cancellation=True, access_log=None,
                               shutdown_timeout=0.5, keepalive_timeout=cfg.header_timeout,
                               logger=logging.getLogger("claude_tui.simulator.server"))
        await runner.setup()
        site = web.TCPSite(runner, cfg.host, cfg.port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        host = cfg.host if ":" not in cfg.host else f"[{cfg.host}]"
        self.base_url = f"http://{host}:{self.port}"
        return self.base_url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        # End running streams (a stalled one would otherwise hold shutdown for its grace period).
        handlers = list(self.state.handlers)
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.wait(handlers, timeout=1.0)
        await runner.cleanup()

    async def __aenter__(self) -> "Simulator":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- test hooks -------------------------------------------------------------------------
    def inject(self, kind: str, count: int = 1, retry_after: float | None = None,
               after_tokens: int | None = None) -> None:
        """Force the next ``count`` ``POST /v1/messages`` requests (that pass auth and validation)
        to get fault ``kind``, ahead of the rate limiter and the random faults."""
        self.state.faults.inject(kind, count, retry_after, after_tokens)

    def clear_injected(self) -> None:
        self.state.faults.clear()

    def hold_replies(self, after_tokens: int = 1) -> None:
        """Streamed replies from now on stop after ``after_tokens`` tokens until ``release_replies()``
        (they send pings meanwhile). In-loop simulator only: the event belongs to this loop."""
        self.state.hold = ReplyHold(after_tokens, asyncio.Event())

    def release_replies(self) -> None:
        hold, self.state.hold = self.state.hold, None
        if hold is not None:
            hold.released.set()

    def keep_bodies(self, on: bool = True) -> None:
        """From now on the request log keeps each request's ``messages`` and ``system`` (what a test
        asserts the client sent); off by default, so a long run's log stays small."""
        self.state.keep_bodies = on

    @property
    def pending_faults(self) -> int:
        return self.state.faults.pending()

    @property
    def stats(self) -> StatsSnapshot:
        return self.state.stats.snapshot()

    @property
    def request_log(self) -> list[RequestRecord]:
        return self.state.stats.records()

    def reset_stats(self) -> None:
        self.state.stats.reset()

    def reset_limits(self) -> None:
        """Refill every rate-limit bucket."""
        self.state.limiter.refill()

    def configure(self, **changes: Any) -> SimulatorConfig:
        """Change settings while running (e.g. ``tps=0``, ``faults={...}``, ``rpm=2``).

        New rate limits start with full buckets; host and port cannot change.
        """
        if {"host", "port"} & changes.keys():
            raise ValueError("host and port cannot change while running")
        new = dataclasses.replace(self.state.config, **changes)
        if "faults" in changes:
            self.state.faults.set_rates(new.faults)
        if "seed" in changes:
            self.state.faults = FaultPlan(new.faults, new.seed)
        if _LIMIT_FIELDS & changes.keys():
            self.state.limiter = RateLimiter(new.rpm, new.itpm, new.otpm, new.burst)
        self.state.config = new
        return new


class ThreadedSimulator:
    """A ``Simulator`` in a daemon thread with its own event loop, for sync code and for apps
    whose UI loop should not do the server's work. The hooks are safe to call from any thread."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.sim = Simulator(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str = ""

    def start(self, timeout: float = 10.0) -> str:
        if self._thread is not None:
            return self.base_url
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.sim.start())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.sim.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=run, name="claude-tui-simulator", daemon=True)
        thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("simulator did not start in time")
        if failure:
            thread.join()
            raise failure[0]
        self._thread = thread
        self.base_url = self.sim.base_url
        return self.base_url

    def stop(self, timeout: float = 5.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        thread.join(timeout)

    def __enter__(self) -> "ThreadedSimulator":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def config(self) -> SimulatorConfig:
        return self.sim.config

    @property
    def port(self) -> int:
        return self.sim.port

    def inject(self, kind: str, count: int = 1, retry_after: float | None = None,
               after_tokens: int | None = None) -> None:
        self.sim.inject(kind, count, retry_after, after_tokens)

    def clear_injected(self) -> None:
        self.sim.clear_injected()

    def keep_bodies(self, on: bool = True) -> None:
        self.sim.keep_bodies(on)

    @property
    def stats(self) -> StatsSnapshot:
        return self.sim.stats

    @property
    def request_log(self) -> list[RequestRecord]:
        return self.sim.request_log

    def reset_stats(self) -> None:
        self.sim.reset_stats()

    def reset_limits(self) -> None:
        self.sim.reset_limits()

    def configure(self, **changes: Any) -> SimulatorConfig:
        return self.sim.configure(**changes)


def start_in_thread(config: SimulatorConfig | None = None) -> ThreadedSimulator:
    """Start a ``ThreadedSimulator`` and return it once it is listening."""
    handle = ThreadedSimulator(config)
    handle.start()
    return handle


async def serve_forever(config: SimulatorConfig, *, announce: Callable[[str], Any] = print) -> None:
    """Serve until cancelled (the CLI's ``claude-tui simulate``), announcing the address first."""
    sim = Simulator(config)
    await sim.start()
    try:
        announce(f"claude-tui simulator listening on {sim.base_url} ({config.summary()})")
        if not is_loopback(config.host):
            announce(f"warning: {config.host} is reachable from other machines; only the --api-key "
                     f"key is accepted, and the replies are made up")
        key = "<your --api-key>" if config.api_keys else "sim-key"  # never echo the user's key
        announce(f"export ANTHROPIC_BASE_URL={sim.base_url} ANTHROPIC_API_KEY={key}")
        await asyncio.Event().wait()
    finally:
        await sim.stop()
