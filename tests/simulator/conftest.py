"""Fixtures: a fast simulator on loopback and a real SDK client pointed at it (SDK retries off)."""

from __future__ import annotations

from typing import AsyncIterator, Awaitable, Callable

import anthropic
import pytest
from sim_helpers import FAST, client_for

from claude_tui.simulator import Simulator


@pytest.fixture
def sim_defaults() -> dict[str, object]:
    return dict(FAST)


@pytest.fixture
async def sim(make_sim: Callable[..., Awaitable[Simulator]]) -> Simulator:
    return await make_sim()


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[anthropic.AsyncAnthropic]:
    c = client_for(sim)
    yield c
    await c.close()
