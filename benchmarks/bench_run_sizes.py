"""`claude-tui run` over 1k, 10k and 50k prompts against a very fast simulator: does it stay lean?

    PYTHONPATH=$PWD python benchmarks/bench_run_sizes.py                     # 1,000 10,000 50,000
    PYTHONPATH=$PWD python benchmarks/bench_run_sizes.py --sizes 1000 --concurrency 50
    PYTHONPATH=$PWD python benchmarks/bench_run_sizes.py --start-only --repeat 5   # time to first request

Each size runs ``python -m claude_tui.cli run FILE --out … --limiter off`` as its own process (history
and log on, in a scratch XDG directory), against one simulator in another process that answers at
once (TTFT 0, 100,000 tokens/s, no rate limit, 40-token replies). From the run's ``rusage``: CPU
(user + system) per request — total; marginal (a 1-prompt run's CPU, the start-up, taken off); and
step (the extra CPU over the previous size ÷ the extra prompts: no start-up in it) — and peak RSS. From the simulator's request log (monotonic clock, shared by the processes): the time
from starting the process to its first request. Then ``Metrics.snapshot()``'s cost after as many
completions (in-process, as benchmarks/bench_metrics.py). Load average printed with every line.

``--start-only`` also times the floor in the same conditions: a bare-SDK script (``import anthropic``,
one ``messages.create``) to its first request, and ``import anthropic`` alone. Every child runs with
bytecode caching on (as an installed package, whose ``.pyc`` pip writes), after one uncounted
warm-up run: with ``PYTHONDONTWRITEBYTECODE`` set, each run recompiled claude_tui's ~60 modules
from source, 55 ms of the first request (1.30 s → 1.245 s, load 0.4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from claude_tui.bench.simproc import SimProcess

FAST_SIM = dict(rpm=0, itpm=0, otpm=0, ttft_ms=0.0, tps=100000.0, reply_tokens=40, fixed_length=True, jitter=0.0, seed=5)


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


#: The floor for the first request: the bare SDK, nothing of claude-tui.
BARE_SDK = """
import asyncio, sys
import anthropic

async def main():
    async with anthropic.AsyncAnthropic(base_url=sys.argv[1], max_retries=0) as client:
        await client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "hi"}])

asyncio.run(main())
"""


def child_env(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(ANTHROPIC_API_KEY="sim-key-not-secret", XDG_CONFIG_HOME=str(scratch / "cfg"),
               XDG_DATA_HOME=str(scratch / "data"), XDG_STATE_HOME=str(scratch / "state"), XDG_CACHE_HOME=str(scratch / "cache"))
    return env


def bare_sdk_first_request(sim: SimProcess, scratch: Path) -> float:
    sim.reset()
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", BARE_SDK, sim.base_url], env=child_env(scratch), check=True)
    return min(r["received_at"] for r in sim.log()) - started


def sdk_import_time(scratch: Path) -> float:
    """``import anthropic`` timed inside the process (the exit's teardown of its objects left out)."""
    code = "import time; t = time.perf_counter(); import anthropic; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], env=child_env(scratch), check=True, capture_output=True, text=True).stdout)


def run_once(sim: SimProcess, size: int, concurrency: int, scratch: Path) -> dict[str, float]:
    prompts = scratch / f"p{size}.txt"
    if not prompts.exists():
        prompts.write_text("".join(f"prompt {i}: say something short\n" for i in range(size)))
    out = scratch / f"out{size}.jsonl"
    out.unlink(missing_ok=True)
    env = child_env(scratch)
    sim.reset()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "claude_tui.cli", "run", str(prompts), "--out", str(out),
                             "--base-url", sim.base_url, "--limiter", "off", "--concurrency", str(concurrency)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run of {size} prompts failed with exit status {os.waitstatus_to_exitcode(status)}")
    log = sim.log()
    first = min(r["received_at"] for r in log)
    lines = sum(1 for _ in out.open())
    assert lines == size, f"{lines} result lines for {size} prompts"
    return {"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024, "wall": wall,
            "first_request": first - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians reported")
    parser.add_argument("--start-only", action="store_true", help="only the time to the first request (1-prompt runs)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, concurrency {args.concurrency}; load {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp, SimProcess(**FAST_SIM) as sim:
        scratch = Path(tmp)
        run_once(sim, 1, args.concurrency, scratch)  # warm-up, not counted: bytecode written, files cached
        base = [run_once(sim, 1, args.concurrency, scratch) for _ in range(max(args.repeat, 3 if args.start_only else 1))]
        start_cpu = statistics.median(r["cpu"] for r in base)
        print(f"1-prompt run: first request {statistics.median(r['first_request'] for r in base):.2f} s after process start "
              f"(runs: {', '.join(format(r['first_request'], '.2f') for r in base)}), CPU {start_cpu:.2f} s, "
              f"wall {statistics.median(r['wall'] for r in base):.2f} s; load {load()}", flush=True)
        if args.start_only:
            bare = [bare_sdk_first_request(sim, scratch) for _ in base]
            imports = [sdk_import_time(scratch) for _ in base]
            print(f"bare SDK script: first request {statistics.median(bare):.2f} s after process start "
                  f"(runs: {', '.join(format(b, '.2f') for b in bare)}); `import anthropic` alone "
                  f"{statistics.median(imports):.2f} s; load {load()}", flush=True)
            return
        print(f"{'prompts':>8} {'wall s':>7} {'req/s':>7} {'CPU s':>7} {'CPU ms/req':>11} {'marginal ms/req':>16} "
              f"{'step ms/req':>12} {'peak RSS MB':>12} {'1st request s':>14}  load")
        previous: tuple[int, float] | None = None
        for size in args.sizes:
            runs = [run_once(sim, size, args.concurrency, scratch) for _ in range(args.repeat)]
            cpu = statistics.median(r["cpu"] for r in runs)
            wall = statistics.median(r["wall"] for r in runs)
            # step: the CPU of the extra prompts over the previous size — no start-up in it at all
            step = (cpu - previous[1]) / (size - previous[0]) * 1000 if previous and size > previous[0] else None
            previous = (size, cpu)
            print(f"{size:>8,} {wall:>7.1f} {size / wall:>7.0f} {cpu:>7.1f} {cpu / size * 1000:>11.2f} "
                  f"{(cpu - start_cpu) / (size - 1) * 1000:>16.2f} {'—' if step is None else f'{step:.2f}':>12} "
                  f"{statistics.median(r['rss_mb'] for r in runs):>12.0f} "
                  f"{statistics.median(r['first_request'] for r in runs):>14.2f}  {load()}", flush=True)
    print("Metrics.snapshot() at the same sizes (in-process):", flush=True)
    subprocess.run([sys.executable, str(Path(__file__).with_name("bench_metrics.py")), "--max", str(max(args.sizes))], check=True)


if __name__ == "__main__":
    main()
