"""Benchmark the Textual app: key echo under load, start-up, memory.

    python benchmarks/bench_ui.py [--quick] [--repeat 3]

(1) Key echo with ten tabs streaming at 50 tokens/s each (simulator in its own thread, as
    ``open_backend`` runs it). A key is delivered through the app's driver exactly like a real
    key press; its **echo delay** is the time from handing the key to the driver until the first
    frame written *after* the character is in the prompt box's text (the frame is detected with
    ``App.post_display_hook``, and the app renders each frame to terminal escape sequences as a
    real terminal session does — only the final write goes nowhere). Frames/s counts those frames.
(2) Start-up: ``claude-tui --version`` wall time (subprocess), and — in a fresh interpreter — the
    time from constructing ``ClaudeTUI`` until its first screen is mounted with the first tab ready
    (imports of the app module are reported separately).
(3) Memory: RSS (``VmRSS`` from /proc/self/status) with 20 tabs each holding a ~5,000-token
    conversation (five ~1,000-token replies per tab), streamed for real through the pool. The
    simulator shares the process, so the baseline before the app starts is reported too.

Goals (from the issue): key-echo p99 < 50 ms; --version < 0.3 s; main screen < 1.0 s; memory < 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from claude_tui.engine.retry import RetryPolicy  # noqa: E402

SIZE = (140, 42)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def make_app_class() -> type:
    from claude_tui.ui.app import ClaudeTUI

    class BenchTUI(ClaudeTUI):
        """ClaudeTUI that renders every frame to escape sequences (like a real terminal) and counts frames."""

        frames: list[float]

        @property
        def is_headless(self) -> bool:  # type: ignore[override]
            return False

        def post_display_hook(self) -> None:
            self.frames.append(time.perf_counter())
            listener = getattr(self, "on_frame", None)
            if listener is not None:
                listener()

    return BenchTUI


def build(app_class: type, base_url: str, **kwargs: Any) -> Any:
    from claude_tui.ui.launch import build_app

    options: dict[str, Any] = dict(max_tokens=8192, concurrency=20, policy=RetryPolicy(), stall_timeout=30.0)
    app = build_app(base_url, app_class=app_class, **options | kwargs)
    app.frames = []
    return app


async def wait_until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark state not reached")
        await asyncio.sleep(0.02)


# -- (1) key echo ------------------------------------------------------------------------------
async def bench_echo(quick: bool) -> dict[str, Any]:
    from textual import events

    from claude_tui.simulator import SimulatorConfig, start_in_thread

    keys = 60 if quick else 250
    sim = start_in_thread(SimulatorConfig(ttft_ms=300, tps=50, reply_tokens=4000, jitter=0.1, seed=3, rpm=0, itpm=0, otpm=0))
    app = build(make_app_class(), sim.base_url)
    delays: list[float] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            chats = [app.active_chat]
            for _ in range(9):
                chats.append(await app.new_tab(focus=False))
            for n, chat in enumerate(chats):
                chat.send(f"Tab {n}: tell me about bounded concurrency")
            app.tabs.active = chats[0].tab_id
            await wait_until(lambda: sum(1 for c in chats if c.state == "streaming") == 10, 20)
            await asyncio.sleep(1.0)  # everyone well into streaming
            box = chats[0].prompt
            box.focus()
            await asyncio.sleep(0.1)
            streaming_at_start = sum(1 for c in chats if c.state == "streaming")
            frames_before = len(app.frames)
            t_start = time.perf_counter()
            rng = random.Random(1)
            for i in range(keys):
                char = "abcdefghijklmnopqrstuvwxyz"[i % 26]
                expected = len(box.text) + 1
                done = asyncio.get_running_loop().create_future()
                t0 = time.perf_counter()

                def on_frame(expected: int = expected, done: asyncio.Future = done) -> None:
                    if not done.done() and len(box.text) >= expected:
                        done.set_result(time.perf_counter())

                app.on_frame = on_frame
                event = events.Key(char, char)
                event.set_sender(app)
                app._driver.send_message(event)
                try:
                    t1 = await asyncio.wait_for(done, timeout=5)
                    delays.append(t1 - t0)
                except asyncio.TimeoutError:
                    delays.append(5.0)
                app.on_frame = None
                if len(box.text) > 60:
                    box.clear()
                await asyncio.sleep(rng.uniform(0.03, 0.08))  # a fast typist: ~18 keys/s
            elapsed = time.perf_counter() - t_start
            frames = len(app.frames) - frames_before
            streaming_at_end = sum(1 for c in chats if c.state == "streaming")
            for chat in chats:
                chat.cancel_all_quietly()
    finally:
        sim.stop()
    return {
        "keys": keys,
        "echo_p50_ms": pct(delays, 50) * 1000,
        "echo_p99_ms": pct(delays, 99) * 1000,
        "echo_max_ms": max(delays) * 1000,
        "frames_per_s": frames / elapsed,
        "tabs_streaming": f"{streaming_at_start}→{streaming_at_end}",
    }


# -- (2) start-up ------------------------------------------------------------------------------
STARTUP_SCRIPT = r"""
import time
t_start = time.time()
import asyncio, json, sys
t_spawn = float(sys.argv[1])
t_import = time.perf_counter()
sys.path.insert(0, {root!r})
from claude_tui.gc_policy import pause_for_start_up
pause_for_start_up()  # as `claude-tui` (launch) does
from claude_tui.backend import open_backend
from claude_tui.engine.retry import RetryPolicy
from claude_tui.ui.app import ClaudeTUI
t_imported = time.perf_counter()

async def main():
    t0 = time.perf_counter()
    backend = open_backend(simulate=True)  # as `claude-tui --simulate` does: the simulator in its thread
    app = ClaudeTUI(backend, model="claude-sonnet-4-6",
                    max_tokens=1024, system=None, concurrency=5, policy=RetryPolicy(), stall_timeout=30.0)
    async with app.run_test(size=(140, 42)) as pilot:
        while not (app.chats and app.active_chat is not None and app.focused is app.active_chat.prompt):
            await asyncio.sleep(0.001)
        t1 = time.perf_counter()
        t_ready = time.time()
        await app.engine_ready.wait()
        t_engine = time.time()
    backend.close()
    print(json.dumps({{"import_s": t_imported - t_import, "ready_s": t1 - t0, "process_ready_s": t_ready - t_spawn,
                       "interpreter_s": t_start - t_spawn, "engine_ready_s": t_engine - t_spawn}}))

asyncio.run(main())
"""


def bench_startup(runs: int) -> dict[str, Any]:
    exe = Path(sys.executable).with_name("claude-tui")
    cmd = [str(exe), "--version"] if exe.exists() else [sys.executable, "-m", "claude_tui.cli", "--version"]
    version_times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        version_times.append(time.perf_counter() - t0)
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", STARTUP_SCRIPT.format(root=str(ROOT)), repr(time.time())],
            check=True, capture_output=True, text=True,
        ).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))

    def median(key: str) -> float:
        return statistics.median(sample[key] for sample in samples)

    return {
        "version_s": statistics.median(version_times),
        "ready_s": median("ready_s"),
        "import_s": median("import_s"),
        "process_ready_s": median("process_ready_s"),
        "engine_ready_s": median("engine_ready_s"),
        "runs": runs,
    }


# -- (3) memory --------------------------------------------------------------------------------
async def bench_memory(quick: bool) -> dict[str, Any]:
    from claude_tui.simulator import SimulatorConfig, start_in_thread

    tabs = 20
    turns = 5
    tokens = 1000
    if quick:
        turns, tokens = 2, 2500  # same ~5,000 tokens per tab, fewer turns
    sim = start_in_thread(
        SimulatorConfig(ttft_ms=5, tps=0, reply_tokens=tokens, fixed_length=True, jitter=0.0, seed=9, rpm=0, itpm=0, otpm=0)
    )
    from claude_tui.ui.app import ClaudeTUI

    baseline = rss_mb()
    app = build(ClaudeTUI, sim.base_url, concurrency=10, show_stats=True)
    try:
        t0 = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            chats = [app.active_chat]
            for _ in range(tabs - 1):
                chats.append(await app.new_tab(focus=False))
            for chat in chats:
                for turn in range(turns):
                    chat.send(f"Turn {turn}: write about queueing theory at length")
            await wait_until(lambda: all(len(c.turns) == turns and not c.busy for c in chats), 600)
            await asyncio.sleep(0.5)
            out_tokens = app.metrics.snapshot().output_tokens
            failed = app.metrics.snapshot().failed
            # visit every tab once so each has been laid out and rendered at least once
            for chat in chats:
                app.tabs.active = chat.tab_id
                await pilot.pause(0.05)
            await asyncio.sleep(0.3)
            import gc

            gc.collect()
            peak = rss_mb()
            elapsed = time.perf_counter() - t0
    finally:
        sim.stop()
    return {
        "tabs": tabs,
        "turns_per_tab": turns,
        "tokens_per_tab": out_tokens / tabs,
        "failed": failed,
        "baseline_mb": baseline,
        "rss_mb": peak,
        "seconds": elapsed,
    }


def load_average() -> float:
    """The 1-minute load average, printed with every published figure."""
    return os.getloadavg()[0]


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric field's median over the runs; other fields from the first run."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = statistics.median_low(r[key] for r in runs) if isinstance(value, int) else statistics.median(r[key] for r in runs)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the claude-tui Textual app")
    parser.add_argument("--quick", action="store_true", help="fewer keys and runs (< 30 s)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run key echo and start-up N times and print the medians (publish with N=3)")
    args = parser.parse_args()

    results: dict[str, Any] = {}
    results["memory"] = asyncio.run(bench_memory(args.quick))  # first: earlier runs in this process would inflate RSS
    echoes: list[dict[str, Any]] = []
    startups: list[dict[str, Any]] = []
    loads: list[float] = []
    for _ in range(max(1, args.repeat)):
        loads.append(load_average())
        echoes.append(asyncio.run(bench_echo(args.quick)))
        startups.append(bench_startup(2 if args.quick else 5))
        loads.append(load_average())
    results["echo"] = median_of(echoes)
    results["startup"] = median_of(startups)
    results["runs"] = len(echoes)
    results["load_average"] = {"min": min(loads), "max": max(loads)}

    e, s, m = results["echo"], results["startup"], results["memory"]
    rows = [
        ("key echo p50 (10 tabs × 50 tok/s)", f"{e['echo_p50_ms']:.1f} ms", ""),
        ("key echo p99", f"{e['echo_p99_ms']:.1f} ms", "< 50 ms"),
        ("key echo max", f"{e['echo_max_ms']:.1f} ms", ""),
        ("frames rendered per second", f"{e['frames_per_s']:.1f}", ""),
        ("tabs streaming (start→end of typing)", e["tabs_streaming"], ""),
        ("claude-tui --version", f"{s['version_s'] * 1000:.0f} ms", "< 300 ms"),
        ("main screen ready, from process start (--simulate)", f"{s['process_ready_s'] * 1000:.0f} ms", "< 1000 ms"),
        ("  of which: import of the app", f"{s['import_s'] * 1000:.0f} ms", ""),
        ("  of which: simulator start + app construct → first tab focused", f"{s['ready_s'] * 1000:.0f} ms", ""),
        ("  engine ready (SDK imported off the UI thread), from process start", f"{s['engine_ready_s'] * 1000:.0f} ms", ""),
        (f"RSS, {m['tabs']} tabs × ~{m['tokens_per_tab']:.0f} tokens ({m['turns_per_tab']} turns)", f"{m['rss_mb']:.0f} MB", "< 300 MB"),
        ("  RSS before the app (interpreter + simulator)", f"{m['baseline_mb']:.0f} MB", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  goal")
    print("-" * (width + 26))
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:>12}  {goal}")
    print(f"\n(keys typed: {e['keys']}; start-up runs: {s['runs']}; memory run: {m['seconds']:.1f} s, failed requests: {m['failed']})")
    print(f"(medians of {results['runs']} run(s); 1-minute load average {results['load_average']['min']:.2f}–"
          f"{results['load_average']['max']:.2f}; {os.cpu_count()} cores)")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
