"""What one ``Metrics.snapshot()`` costs after 1k, 10k, 100k and 1M completions (not a timed test).

Feeds synthetic Queued/Started/Done events (log-normal latencies, one completion every 10 ms of a
fake clock, so the 60 s window holds ~6,000 of them) and times the snapshot the stats panel and
``run``'s progress line take 2–5 times a second. The cost should be flat: the all-time percentiles
come from a sketch and the window from a bounded sample.

    PYTHONPATH=$PWD python benchmarks/bench_metrics.py            # up to 1,000,000
    PYTHONPATH=$PWD python benchmarks/bench_metrics.py --max 100000

Prints one line per size: the median and p99 of 200 snapshots, and observe()'s cost per event.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from claude_tui.engine.events import Done, Queued, Started, Timings, Usage
from claude_tui.engine.metrics import Metrics, percentile


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed(metrics: Metrics, clock: Clock, start: int, stop: int, rng: random.Random) -> float:
    """Complete jobs start..stop-1; returns the seconds spent in observe()."""
    spent = 0.0
    for index in range(start, stop):
        clock.now += 0.01
        job = f"j{index}"
        latency = rng.lognormvariate(0.0, 0.6)
        ttft = latency / 3
        timings = Timings(submitted=clock.now - latency - 0.5, started=clock.now - latency, first_token=clock.now - latency + ttft,
                          finished=clock.now)
        events = (Queued(job, clock.now, 0), Started(job, clock.now, 1),
                  Done(job_id=job, at=clock.now, text="", thinking="", usage=Usage(20, 50), stop_reason="end_turn",
                       model="claude-sonnet-4-6", request_id=None, attempts=1, timings=timings, cost=0.0001))
        t0 = time.perf_counter()
        for event in events:
            metrics.observe(event)
        spent += time.perf_counter() - t0
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000, help="largest size (default 1,000,000)")
    args = parser.parse_args()
    sizes = [n for n in (100, 1_000, 10_000, 100_000, 1_000_000) if n <= args.max]
    rng = random.Random(1)
    clock = Clock()
    metrics = Metrics(clock=clock)
    print(f"Metrics.snapshot() cost by completions so far — load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, {os.cpu_count()} CPUs")
    print(f"{'completions':>12} {'snapshot p50 ms':>16} {'snapshot p99 ms':>16} {'observe µs/event':>17}")
    done = 0
    for size in sizes:
        spent = feed(metrics, clock, done, size, rng)
        per_event = spent / ((size - done) * 3) * 1e6
        done = size
        timings = []
        for _ in range(200):
            t0 = time.perf_counter()
            metrics.snapshot()
            timings.append((time.perf_counter() - t0) * 1000)
        print(f"{size:>12,} {statistics.median(timings):>16.3f} {percentile(timings, 99) or 0:>16.3f} {per_event:>17.2f}")


if __name__ == "__main__":
    main()
