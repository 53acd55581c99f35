"""Metrics from synthetic events: percentiles, TPOT, windows, per-tag figures."""

from claude_tui.engine.events import AttemptFailed, BackingOff, Done, Failed, Queued, Started, Submitted, Timings, Usage
from claude_tui.engine.job import Correlation, Job
import pytest

from claude_tui.engine.metrics import Metrics, percentile


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def done(job_id: str, at: float, ttft: float, latency: float, out: int, cost: float = 0.01) -> Done:
    timings = Timings(submitted=at - latency - 1, started=at - latency, first_token=at - latency + ttft, finished=at)
    return Done(job_id=job_id, at=at, text="x", thinking="", usage=Usage(10, out), stop_reason="end_turn", model="claude-sonnet-4-6", request_id="req_1", attempts=1, timings=timings, cost=cost)


def test_percentile_interpolates_like_numpy() -> None:
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 50) == 50.5
    assert percentile(values, 99) == 99.01
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) is None


def test_ttft_latency_tpot_and_tokens() -> None:
    clock = FakeClock()
    metrics = Metrics(clock=clock)
    for index in range(10):
        job = f"j{index}"
        group = "tab-1" if index < 4 else None
        metrics.observe(Submitted(job, clock.now, Job.from_prompt("p", id=job, correlation=Correlation(group=group))))
        metrics.observe(Queued(job, clock.now, 0))
        metrics.observe(Started(job, clock.now, 1))
        # TTFT 0.1..1.0 s, latency 2 s, 101 output tokens → TPOT = (2 - ttft) / 100
        metrics.observe(done(job, clock.now, ttft=(index + 1) / 10, latency=2.0, out=101))
    snap = metrics.snapshot()
    assert snap.done == 10 and snap.in_flight == 0 and snap.queued == 0
    assert snap.ttft.p50 == pytest.approx(0.55)
    assert snap.ttft.p99 == pytest.approx(0.991)
    assert snap.latency.p50 == 2.0
    assert snap.tpot.p50 == pytest.approx((2.0 - 0.55) / 100)
    assert snap.output_tokens == 1010 and snap.input_tokens == 100
    assert abs(snap.cost - 0.1) < 1e-9
    assert snap.success_rate == 1.0
    tab = metrics.for_tag("tab-1")
    assert tab is not None and tab.snapshot().done == 4


def test_window_rates_and_failure_counts() -> None:
    clock = FakeClock()
    metrics = Metrics(window=60.0, clock=clock)
    metrics.observe(Queued("a", clock.now, 0))
    metrics.observe(Started("a", clock.now, 1))
    metrics.observe(AttemptFailed(job_id="a", at=clock.now, attempt=1, kind="rate_limit", message="429", status_code=429, retryable=True, request_id=None, partial_text="", usage=Usage(), started=clock.now, ended=clock.now))
    metrics.observe(BackingOff(job_id="a", at=clock.now, attempt=1, max_attempts=5, delay=1.0, deadline=clock.now + 1, reason="rate_limit", status_code=429, message="429", from_retry_after=True))
    clock.now += 30
    metrics.observe(done("a", clock.now, ttft=0.2, latency=1.0, out=50))
    metrics.observe(Queued("b", clock.now, 0))
    metrics.observe(Failed(job_id="b", at=clock.now, kind="authentication", message="401", status_code=401, retryable=False, partial_text="", attempts=1, request_id=None, timings=Timings(clock.now)))
    snap = metrics.snapshot()
    assert (snap.retries, snap.rate_limited, snap.errors, snap.failed) == (1, 1, 1, 1)
    assert snap.success_rate == 0.5
    assert snap.requests_per_s == 1 / 30  # one completion in the 30 s seen so far
    clock.now += 100  # the completion slides out of the 60 s window, totals remain
    snap = metrics.snapshot()
    assert snap.requests_per_s == 0 and snap.done == 1
    assert snap.throughput_history[-1] == 0 and len(snap.throughput_history) == 36
