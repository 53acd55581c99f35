"""Fixtures: a fast simulator on loopback and a real SDK client pointed at it (SDK retries off)."""

from __future__ import annotations

from typing import AsyncIterator, Awaitable, Callable

import anthropic
import pytest
from sim_helpers import client_for, fast_config

from claude_tui.simulator import Simulator


@pytest.fixture
async def make_sim() -> AsyncIterator[Callable[..., Awaitable[Simulator]]]:
    """``await make_sim(**config)`` → a started Simulator; all are stopped at teardown."""
    started: list[Simulator] = []

    async def make(**overrides: object) -> Simulator:
        sim = Simulator(fast_config(**overrides))
        await sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        await sim.stop()


@pytest.fixture
async def sim(make_sim: Callable[..., Awaitable[Simulator]]) -> Simulator:
    return await make_sim()


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[anthropic.AsyncAnthropic]:
    c = client_for(sim)
    yield c
    await c.close()
