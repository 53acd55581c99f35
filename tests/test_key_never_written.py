"""The API key never reaches history, logs, results or error text — end to end, through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from claude_tui.simulator import SimulatorConfig, start_in_thread

KEY = "sk-ant-test-SECRET-9f8e7d6c5b4a"


def _run(args: list[str], tmp: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "XDG_"))}
    env.update(
        ANTHROPIC_API_KEY=KEY,
        ANTHROPIC_BASE_URL=base_url,
        XDG_CONFIG_HOME=str(tmp / "config"),
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_CACHE_HOME=str(tmp / "cache"),
    )
    return subprocess.run([sys.executable, "-m", "claude_tui.cli", *args], capture_output=True, text=True, env=env, timeout=60)


def test_key_appears_in_no_file_and_no_output(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("first question\nsecond question\n")
    fast = dict(ttft_ms=5, tps=0, reply_tokens=30, rpm=0, itpm=0, otpm=0)
    outputs: list[str] = []
    # A server that accepts the key, then one that rejects it (401): both paths write results and logs.
    for index, accepted in enumerate(({KEY}, {"some-other-key"})):
        sim = start_in_thread(SimulatorConfig(api_keys=frozenset(accepted), **fast))
        try:
            result = _run(["run", str(prompts), "--out", str(tmp_path / f"results-{index}.jsonl")], tmp_path, sim.base_url)
        finally:
            sim.stop()
        outputs += [result.stdout, result.stderr]
    assert "check ANTHROPIC_API_KEY" in outputs[-1]  # the 401 was reported, with its hint
    for args in (["history", "list"], ["history", "stats"], ["config", "show"]):
        result = _run(args, tmp_path, "http://127.0.0.1:9")
        outputs += [result.stdout, result.stderr]
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name == "history.db" for path in written) and any(path.suffix == ".log" for path in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), f"the key is in {path}"
    for text in outputs:
        assert KEY not in text
