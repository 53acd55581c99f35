"""`claude-tui run` end to end against the simulator: output lines, resume, summary, Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from claude_tui.engine.retry import RetryPolicy
from claude_tui.headless.prompts import PromptSpec
from claude_tui.headless.run import RunOptions, run_batch
from claude_tui.simulator import Simulator, SimulatorConfig

FAST = dict(ttft_ms=10, tps=3000, reply_tokens=40, fixed_length=True, jitter=0.0, seed=3, rpm=0, itpm=0, otpm=0)
OPTIONS = RunOptions(model="claude-haiku-4-5", max_tokens=200, system=None, concurrency=4, policy=RetryPolicy(base=0.01, cap=0.05), stall_timeout=2.0)


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_every_prompt_gets_a_line_and_resume_skips_done(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    specs = [PromptSpec(id=f"p{i}", prompt=f"question {i}") for i in range(12)]
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        sim.inject("rate_limit", count=2, retry_after=0)
        console = Console(file=io.StringIO(), width=120)
        outcome = await run_batch(specs[:8], OPTIONS, api_key="k", base_url=sim.base_url, out_path=out, console=console)
        assert outcome.exit_code == 0 and outcome.succeeded == 8
        lines = read_lines(out)
        assert sorted(line["id"] for line in lines) == [f"p{i}" for i in range(8)]
        first = lines[0]
        assert set(first) >= {"id", "status", "text", "usage", "ttft_ms", "latency_ms", "attempts", "error", "model", "request_id"}
        assert first["status"] == "succeeded" and first["text"] and first["usage"]["output_tokens"] == 40
        assert first["error"] is None and first["request_id"].startswith("req_")
        assert sum(line["attempts"] for line in lines) == 10  # two 429s retried, nothing lost
        summary = console.file.getvalue()
        assert "succeeded" in summary and "TTFT" in summary and "429s" in summary

        before = sim.stats.requests_total
        console = Console(file=io.StringIO(), width=120)
        outcome = await run_batch(specs, OPTIONS, api_key="k", base_url=sim.base_url, out_path=out, console=console)
        assert outcome.skipped == 8 and outcome.succeeded == 4
        assert sim.stats.requests_total - before == 4  # resumed without paying twice
        assert sorted(line["id"] for line in read_lines(out)) == sorted(f"p{i}" for i in range(12))


async def test_failures_are_written_with_error_and_exit_1(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    specs = [PromptSpec(id="ok", prompt="hi"), PromptSpec(id="bad", prompt="hi", model="claude-imaginary-1")]
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        console = Console(file=io.StringIO(), width=120)
        outcome = await run_batch(specs, OPTIONS, api_key="k", base_url=sim.base_url, out_path=out, console=console)
    assert outcome.exit_code == 1
    by_id = {line["id"]: line for line in read_lines(out)}
    assert by_id["ok"]["status"] == "succeeded"
    assert by_id["bad"]["status"] == "failed" and by_id["bad"]["error"]["kind"] == "not_found"
    assert by_id["bad"]["attempts"] == 1
    assert "1 failed: not_found_error (404)" in console.file.getvalue()
    assert "unknown model" in console.file.getvalue()  # the hint says what to do


def _cli(*args: str, env_extra: dict[str, str] | None = None, tmp: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update({"XDG_CONFIG_HOME": str(tmp / "cfg"), "XDG_DATA_HOME": str(tmp / "data"), "XDG_STATE_HOME": str(tmp / "state"), "XDG_CACHE_HOME": str(tmp / "cache")})
    env.update(env_extra or {})
    return subprocess.Popen([sys.executable, "-m", "claude_tui.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_cli_run_simulated_stdin_free(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"prompt {i}\n" for i in range(6)))
    out = tmp_path / "out.jsonl"
    # Fast simulator settings through the config file, as a user would set them.
    (tmp_path / "cfg" / "claude-tui").mkdir(parents=True)
    # No limits: with the simulator's seconds-sized buckets, 6 prompts in 0.1 s would draw 429s at 50 RPM,
    # and this test counts exactly one request per prompt.
    (tmp_path / "cfg" / "claude-tui" / "config.toml").write_text(
        "[simulator]\nttft_ms = 10\ntps = 2000\nreply_tokens = 30\nrpm = 0\nitpm = 0\notpm = 0\n")
    proc = _cli("run", str(prompts), "--simulate", "--concurrency", "3", "--out", str(out), tmp=tmp_path)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "simulator" in stderr and "summary" in stderr
    assert [line["status"] for line in read_lines(out)] == ["succeeded"] * 6
    # Every attempt is in the history's attempts table, so past latency and spend can be queried.
    stats = _cli("history", "stats", tmp=tmp_path)
    stats_out, stats_err = stats.communicate(timeout=30)
    assert stats.returncode == 0, stats_err
    assert "total: 6 requests" in stats_out


def test_cli_bad_file_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a"}\n{oops\n')
    proc = _cli("run", str(bad), "--simulate", tmp=tmp_path)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert stderr.strip().count("\n") == 0 and "line 2" in stderr and "Traceback" not in stderr


def test_ctrl_c_stops_cleanly_and_keeps_finished(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"prompt {i}\n" for i in range(40)))
    out = tmp_path / "out.jsonl"
    (tmp_path / "cfg" / "claude-tui").mkdir(parents=True)
    (tmp_path / "cfg" / "claude-tui" / "config.toml").write_text("[simulator]\nttft_ms = 10\ntps = 100\nreply_tokens = 60\nrpm = 0\n")
    proc = _cli("run", str(prompts), "--simulate", "--concurrency", "2", "--out", str(out), tmp=tmp_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 2):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    lines = read_lines(out)  # every line is whole JSON
    succeeded = [line for line in lines if line["status"] == "succeeded"]
    assert 2 <= len(succeeded) < 40
    cancelled = [line for line in lines if line["status"] == "cancelled"]
    assert len(cancelled) <= 2 and all(line["text"] is not None for line in cancelled)


async def test_empty_and_huge_prompts_fail_clearly_without_retries(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    specs = [PromptSpec(id="empty", prompt=""), PromptSpec(id="huge", prompt="word " * 300_000), PromptSpec(id="ok", prompt="hi")]
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        console = Console(file=io.StringIO(), width=120)
        outcome = await run_batch(specs, OPTIONS, api_key="k", base_url=sim.base_url, out_path=out, console=console)
    assert outcome.exit_code == 1 and outcome.succeeded == 1
    by_id = {line["id"]: line for line in read_lines(out)}
    assert "must be non-empty" in by_id["empty"]["error"]["message"] and by_id["empty"]["attempts"] == 1
    assert "prompt is too long" in by_id["huge"]["error"]["message"] and by_id["huge"]["attempts"] == 1
