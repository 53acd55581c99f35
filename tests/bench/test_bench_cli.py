"""`claude-tui bench` end to end: exit code, the printed table, the --json schema; and an import-light CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claude_tui.cli import main

ROW_KEYS = {  # vLLM bench serve's names where the meaning is the same, then ours
    "max_concurrency", "requests", "failed", "request_throughput", "littles_law_ceiling", "efficiency", "median_ttft_ms",
    "p99_ttft_ms", "median_e2el_ms", "p99_e2el_ms", "attempts", "rate_limited", "completed", "duration",
    "output_throughput", "mean_ttft_ms", "mean_e2el_ms", "mean_tpot_ms", "mean_itl_ms", "error_rate", "retries",
    "cpu_ms_per_request", "max_concurrent_requests",
}


def test_bench_quick_scaling_prints_the_table_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "bench.json"
    md_file = tmp_path / "bench.md"
    rc = main(["bench", "--quick", "--scenario", "scaling", "--concurrency", "1,2", "--json", str(out_file),
               "--markdown", str(md_file)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "Scaling" in printed
    for header in ("efficiency", "req/s", "TTFT mean/p50/p99 ms", "latency mean/p50/p99 ms", "429s"):
        assert header in printed

    doc = json.loads(out_file.read_text())
    assert doc["quick"] is True and doc["machine"]["cpus"] >= 1
    assert list(doc["scenarios"]) == ["scaling"]
    scenario = doc["scenarios"]["scaling"]
    assert {"name", "title", "simulator", "rows", "notes", "duration_s"} <= scenario.keys()
    rows = scenario["rows"]
    assert [(r["approach"], r["max_concurrency"]) for r in rows] == [("claude-tui", 1), ("claude-tui", 2), ("bare-sdk", 2)]
    for r in rows:
        assert ROW_KEYS <= r.keys()
        assert r["failed"] == 0 and r["completed"] == r["requests"]
        assert r["attempts"] == r["requests"] and r["rate_limited"] == 0
        # Little's law against the fixed latency: the ceiling is concurrency / 0.5 s in --quick.
        assert r["littles_law_ceiling"] == pytest.approx(r["max_concurrency"] / 0.5)
        assert 0.3 < r["efficiency"] <= 1.01
        assert r["median_ttft_ms"] < r["median_e2el_ms"]
        assert r["max_concurrent_requests"] == r["max_concurrency"]
    assert "| in flight |" in md_file.read_text()


def test_bad_flags_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["bench", "--scenario", "nope"], ["bench", "--concurrency", "0,2"], ["bench", "--requests", "-1"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_bench_cli_module_is_import_light() -> None:
    code = ("import sys, claude_tui.bench.cli as c, argparse; p = argparse.ArgumentParser(); c.add_arguments(p); "
            "print(sorted(m for m in ('anthropic', 'aiohttp', 'rich', 'claude_tui.engine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
