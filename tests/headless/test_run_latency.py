"""`run`'s latency is what a prompt waited (submit → reply); the final attempt's is a separate figure."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from claude_tui.engine.retry import RetryPolicy
from claude_tui.headless.prompts import PromptSpec
from claude_tui.headless.run import RunOptions, run_batch
from claude_tui.simulator import Simulator, SimulatorConfig

FAST = dict(ttft_ms=10, tps=3000, reply_tokens=40, fixed_length=True, jitter=0.0, seed=3, rpm=0, itpm=0, otpm=0)
OPTIONS = RunOptions(model="claude-haiku-4-5", max_tokens=200, system=None, concurrency=2,
                     policy=RetryPolicy(base=0.01, cap=0.05), stall_timeout=5.0)


async def test_a_429_wait_counts_in_the_latency_and_the_final_attempt_is_labelled(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    specs = [PromptSpec(id=f"p{i}", prompt=f"question {i}") for i in range(2)]
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        sim.inject("rate_limit", count=1, retry_after=1)  # one prompt is told to wait a second
        console = Console(file=io.StringIO(), width=160)
        outcome = await run_batch(specs, OPTIONS, api_key="k", base_url=sim.base_url, out_path=out, console=console)
    assert outcome.succeeded == 2
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    paced = next(line for line in lines if line["attempts"] == 2)
    assert paced["latency_ms"] >= 1000  # the wait the server asked for is in what the prompt waited
    assert paced["final_attempt_latency_ms"] < paced["latency_ms"] - 900  # … and not in its last attempt
    summary = console.file.getvalue()
    assert "end to end (submit → reply)" in summary and "final attempt only" in summary
    row = next(line for line in summary.splitlines() if "submit → reply" in line)
    p99 = float(row.split("│")[-2].replace(",", ""))
    assert p99 >= 1000  # the summary's p99 shows the wait, not the 2-attempt request's last 30 ms
