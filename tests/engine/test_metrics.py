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


def _complete(metrics: Metrics, clock: FakeClock, index: int, latency: float) -> None:
    job = f"k{index}"
    metrics.observe(Queued(job, clock.now, 0))
    metrics.observe(Started(job, clock.now, 1))
    metrics.observe(done(job, clock.now, ttft=latency / 4, latency=latency, out=11))


def test_all_time_percentiles_stay_within_the_sketch_error_of_the_exact_ones() -> None:
    """A long job: 20,000 log-normal latencies (median 1 s, a heavy tail), far past the exact sample."""
    import random

    rng = random.Random(7)
    clock = FakeClock()
    metrics = Metrics(clock=clock, keep_values=True)
    latencies = [rng.lognormvariate(0.0, 0.8) for _ in range(20_000)]
    for index, latency in enumerate(latencies):
        clock.now += 0.01
        _complete(metrics, clock, index, latency)
    live = metrics.snapshot().latency
    exact = metrics.snapshot(exact=True).latency
    assert live.count == exact.count == 20_000
    assert exact.p50 == pytest.approx(percentile(latencies, 50))
    assert exact.p99 == pytest.approx(percentile(latencies, 99))
    for name in ("p50", "p90", "p95", "p99"):
        assert getattr(live, name) == pytest.approx(getattr(exact, name), rel=0.02), name
    assert live.max == pytest.approx(max(latencies)) and live.mean == pytest.approx(sum(latencies) / len(latencies))


def test_submit_to_finish_counts_the_wait_the_final_attempt_does_not() -> None:
    """A prompt that waited 30 s (queue, 429s, backoff) for a 2 s reply: both figures, each labelled."""
    clock = FakeClock()
    metrics = Metrics(clock=clock)
    metrics.observe(Queued("a", clock.now, 0))
    timings = Timings(submitted=clock.now, started=clock.now + 30, first_token=clock.now + 30.5, finished=clock.now + 32)
    clock.now += 32
    metrics.observe(Done(job_id="a", at=clock.now, text="x", thinking="", usage=Usage(10, 11), stop_reason="end_turn",
                         model="claude-sonnet-4-6", request_id="req_1", attempts=4, timings=timings, cost=0.0))
    snap = metrics.snapshot()
    assert snap.total.p50 == pytest.approx(32.0) and snap.latency.p50 == pytest.approx(2.0)


def test_window_figures_cover_only_the_window_at_any_rate() -> None:
    clock = FakeClock()
    metrics = Metrics(window=10.0, clock=clock)
    for index in range(3000):  # 3,000 slow completions in the first 30 s …
        clock.now += 0.01
        _complete(metrics, clock, index, 5.0)
    clock.now += 20  # … slide out of the 10 s window; 500 fast ones arrive in it
    for index in range(3000, 3500):
        clock.now += 0.01
        _complete(metrics, clock, index, 0.5)
    snap = metrics.snapshot()
    assert snap.window_latency.p99 == pytest.approx(0.5) and snap.window_latency.count == 500
    assert snap.requests_per_s == pytest.approx(500 / 10)
    assert snap.latency.count == 3500 and snap.latency.max == 5.0
    assert sum(snap.throughput_history) * 5 == pytest.approx(3500)  # all within the 3-minute sparkline
