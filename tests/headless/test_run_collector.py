"""`run` keeps the garbage collector out of its start-up, and always turns it back on.

Importing the SDK makes ~180,000 long-lived objects; each full collection during start-up walked
them all (three before the first request, 150–190 ms). The collector is paused until the first
prompts are submitted, then what lives is frozen and collection resumes — on every path out.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import gc, sys
full = []
gc.callbacks.append(lambda phase, info: full.append(1) if phase == "start" and info["generation"] == 2 else None)
from claude_tui.cli import main
code = main({argv!r})
print("CODE:", code, "FULL:", len(full), "ENABLED:", gc.isenabled(), "FROZEN:", gc.get_freeze_count() > 0)
"""


def _probe(argv: list[str]) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def test_a_run_makes_no_full_collection_and_leaves_the_collector_on(tmp_path: Path) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\nworld\n")
    out = _probe(["run", str(prompts), "--out", str(tmp_path / "out.jsonl"), "--simulate", "--limiter", "off",
                  "--sim-ttft-ms", "0"])
    assert "CODE: 0 FULL: 0 ENABLED: True FROZEN: True" in out, out
    assert (tmp_path / "out.jsonl").read_text().count('"status": "succeeded"') == 2


def test_a_run_that_fails_before_its_first_request_turns_the_collector_back_on(tmp_path: Path) -> None:
    out = _probe(["run", str(tmp_path / "missing.txt")])
    assert "CODE: 2" in out and "ENABLED: True" in out, out
