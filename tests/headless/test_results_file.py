"""The results file: torn tails, one line per id, mode 0600, and an --out that cannot be written."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from claude_tui.engine.retry import RetryPolicy
from claude_tui.headless.prompts import PromptSpec
from claude_tui.headless.run import RunOptions, run_batch
from claude_tui.simulator import Simulator, SimulatorConfig

FAST = dict(ttft_ms=10, tps=3000, reply_tokens=40, fixed_length=True, jitter=0.0, seed=3, rpm=0, itpm=0, otpm=0)
ONE = RunOptions(model="claude-haiku-4-5", max_tokens=200, system=None, concurrency=1, policy=RetryPolicy(base=0.01, cap=0.05), stall_timeout=2.0)
ABC = [PromptSpec(id=name, prompt=f"question {name}") for name in "abc"]


def whole_lines(path: Path) -> list[dict]:
    """Every line must be readable JSON: a torn or glued line fails here."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def old_line(key: str, status: str) -> str:
    return json.dumps({"id": key, "status": status, "text": "old", "error": None if status == "succeeded" else {"kind": status}}) + "\n"


async def test_a_torn_last_line_is_repaired_and_every_id_ends_with_one_succeeded_line(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text(old_line("a", "succeeded") + '{"id": "b", "status": "succ')
    console = Console(file=io.StringIO(), width=200)
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        outcome = await run_batch(ABC, ONE, api_key="k", base_url=sim.base_url, out_path=out, console=console)
        assert sim.stats.requests_total == 2  # a was done; b and c are paid for once
    assert outcome.exit_code == 0
    lines = whole_lines(out)
    assert sorted(line["id"] for line in lines) == ["a", "b", "c"]
    assert all(line["status"] == "succeeded" for line in lines)
    shown = console.file.getvalue()
    assert "ignored unreadable line 2" in shown
    assert "resuming: 1 of 3 already succeeded in" in shown


async def test_resume_leaves_one_line_per_id_latest_wins(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text(old_line("a", "cancelled") + old_line("b", "failed") + old_line("c", "succeeded") + old_line("b", "cancelled"))
    console = Console(file=io.StringIO(), width=200)
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        outcome = await run_batch(ABC, ONE, api_key="k", base_url=sim.base_url, out_path=out, console=console)
    assert outcome.exit_code == 0 and outcome.skipped == 1
    lines = whole_lines(out)
    assert len(lines) == 3 and {line["id"]: line["status"] for line in lines} == dict.fromkeys("abc", "succeeded")
    assert next(line for line in lines if line["id"] == "c")["text"] == "old"  # kept, not re-run
    assert "resuming: 1 of 3 already succeeded in" in console.file.getvalue()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


async def test_a_new_results_file_is_mode_0600(tmp_path: Path) -> None:
    out = tmp_path / "new.jsonl"
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        await run_batch(ABC[:1], ONE, api_key="k", base_url=sim.base_url, out_path=out, console=Console(file=io.StringIO()))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def _cli(tmp: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_TUI_"))}
    env.update({f"XDG_{n}_HOME": str(tmp / n.lower()) for n in ("CONFIG", "DATA", "STATE", "CACHE")})
    config = tmp / "config" / "claude-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[simulator]\nttft_ms = 10\ntps = 2000\nreply_tokens = 200\nrpm = 0\nitpm = 0\notpm = 0\n")

    def limit() -> None:  # a real file-size limit, as `prlimit --fsize` sets it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "claude_tui.cli", *args], capture_output=True, text=True, env=env,
        timeout=60, preexec_fn=limit if fsize else None,  # the timeout is for a hang: the bug was an endless wait
    )


def _prompts(tmp: Path, n: int) -> Path:
    path = tmp / "p.txt"
    path.write_text("".join(f"prompt {i}\n" for i in range(n)))
    return path


def test_out_on_a_full_device_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "run", str(_prompts(tmp_path, 30)), "--simulate", "--out", "/dev/full")
    assert proc.returncode == 1, proc.stderr
    assert "cannot write results to /dev/full: No space left on device" in proc.stderr
    assert proc.stderr.count("cannot write results") == 1 and "Traceback" not in proc.stderr


def test_out_over_a_file_size_limit_stops_the_run(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    proc = _cli(tmp_path, "run", str(_prompts(tmp_path, 200)), "--simulate", "--concurrency", "2", "--out", str(out), fsize=20000)
    assert proc.returncode == 1, proc.stderr
    assert f"cannot write results to {out}: File too large" in proc.stderr
    assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr
    for line in out.read_text().splitlines()[:-1]:
        json.loads(line)  # what was written before the limit is whole


def test_out_in_a_missing_directory_is_refused_before_anything_starts(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "run", str(_prompts(tmp_path, 3)), "--simulate", "--out", str(tmp_path / "nope" / "o.jsonl"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no such directory" in proc.stderr
    assert "simulator" not in proc.stderr  # refused before the simulator (or the SDK) started
