"""Little's law, efficiency and the row arithmetic the bench tables rest on."""

from __future__ import annotations

import random

import pytest

from claude_tui.bench.guide import MaxRetriesExceeded, guide_backoff, guide_retry
from claude_tui.bench.measure import RunResult, efficiency, littles_law_ceiling, percentile, row, server_counts
from claude_tui.bench.scenarios import GUIDE_CLAIMS


def test_littles_law_ceiling_and_efficiency() -> None:
    assert littles_law_ceiling(1, 1.2) == pytest.approx(0.8333, abs=1e-4)
    assert littles_law_ceiling(5, 0.8) == pytest.approx(6.25)
    assert littles_law_ceiling(5, 0.65) == pytest.approx(7.692, abs=1e-3)
    assert littles_law_ceiling(5, 0) is None
    assert littles_law_ceiling(5, None) is None
    assert efficiency(4.9, 5.0) == pytest.approx(0.98)
    assert efficiency(None, 5.0) is None
    assert efficiency(1.0, None) is None


def test_the_guides_claims_exceed_their_own_ceilings_2_4_to_3_8_times() -> None:
    ratios = [rps / littles_law_ceiling(n, ms / 1000) for _label, n, rps, ms, _err in GUIDE_CLAIMS]
    assert [round(r, 1) for r in ratios] == [3.8, 2.5, 2.4]


def test_row_uses_mean_latency_unless_told_otherwise() -> None:
    run = RunResult("x", "claude-tui", concurrency=4, requests=10, completed=8, duration_s=2.0,
                    latencies=[0.5, 1.0, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0], ttfts=[0.2] * 8, output_tokens=400,
                    cpu_s=0.08, attempts=13, rate_limited=2)
    r = row(run)
    assert r["request_throughput"] == 4.0
    assert r["littles_law_ceiling"] == 4.0  # 4 in flight / 1.0 s mean latency
    assert r["efficiency"] == 1.0
    assert r["failed"] == 2 and r["error_rate"] == 0.2
    assert r["retries"] == 3 and r["attempts_per_request"] == 1.3
    assert r["output_throughput"] == 200.0
    assert r["cpu_ms_per_request"] == 10.0
    assert r["median_e2el_ms"] == 1000.0 and r["p99_ttft_ms"] == 200.0
    fixed = row(run, ceiling_latency_s=0.5)
    assert fixed["littles_law_ceiling"] == 8.0 and fixed["efficiency"] == 0.5
    assert row(run, use_littles_law=False)["efficiency"] is None


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 99) == pytest.approx(3.97)


def test_server_counts() -> None:
    log = [{"status": 429, "outcome": "error"}, {"status": 200, "outcome": "ok"}, {"status": 200, "outcome": "disconnect"}]
    assert server_counts(log) == (3, 1, 2)


async def test_guide_retry_wrapper_as_described() -> None:
    sleeps: list[float] = []
    calls = 0

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def rate_limited() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("Error code: 429 - This request would exceed the Rate Limit for your organization")

    with pytest.raises(MaxRetriesExceeded, match="max retries exceeded"):
        await guide_retry(rate_limited, sleep=fake_sleep, rng=random.Random(1))
    assert calls == 5
    assert len(sleeps) == 4  # between attempts; none after the last
    for attempt, slept in enumerate(sleeps):
        assert 2**attempt <= slept <= 2**attempt + 1
    assert guide_backoff(6, 0.5) == 30.0  # capped

    calls = 0

    async def other() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("Overloaded")

    with pytest.raises(RuntimeError, match="Overloaded"):
        await guide_retry(other, sleep=fake_sleep)
    assert calls == 1  # any other exception is re-raised at once
