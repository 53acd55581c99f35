"""Budget tests: the real simulator over loopback, and a real redis-server process (no mocks).

The ``redis_server`` fixture is in tests/conftest.py (the workers' tests use it too).
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def sim_defaults() -> dict[str, Any]:
    return dict(ttft_ms=10, tps=5000, reply_tokens=20, fixed_length=True, jitter=0.0, seed=3, rpm=0, itpm=0, otpm=0)
