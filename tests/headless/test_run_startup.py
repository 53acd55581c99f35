"""What `claude-tui run` (and `--version` / `--help`) import before they work: only what they use.

`run`'s first request goes out ≈ the SDK's import after process start; every other module imported
first delays it. Each probe runs in a fresh interpreter and reports ``sys.modules``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from claude_tui.cli import main
try:
    code = main({argv!r})
except SystemExit as exit:
    code = exit.code
wanted = {wanted!r}
print("LOADED:", ",".join(sorted(m for m in wanted if m in sys.modules)) or "none", "CODE:", code)
"""

#: What `run` (live) never needs: the other subcommands' modules, the Message Batches runner.
NOT_FOR_RUN = ("claude_tui.commands.history_cmd", "claude_tui.commands.config_cmd", "claude_tui.distributed.cli_args",
               "claude_tui.bench.cli", "claude_tui.headless.batch", "claude_tui.headless.plan")


def _probe(argv: list[str], wanted: tuple[str, ...]) -> str:
    code = PROBE.format(argv=argv, wanted=wanted)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def test_version_and_help_build_no_subcommand() -> None:
    wanted = ("claude_tui.config", "claude_tui.store", "claude_tui.engine", "rich", *NOT_FOR_RUN)
    for argv in (["--version"], ["--help"]):
        out = _probe(argv, wanted)
        assert "LOADED: none CODE: 0" in out, (argv, out)
    assert "history   list, show, export" in _probe(["--help"], wanted)  # every subcommand still listed


def test_run_help_has_all_of_runs_flags_and_nothing_else_loaded() -> None:
    out = _probe(["run", "--help"], NOT_FOR_RUN)
    for flag in ("--out", "--model", "--max-tokens", "--mode", "--dry-run", "--distribute", "--limiter", "--simulate"):
        assert flag in out, flag
    assert "LOADED: none CODE: 0" in out


def test_a_live_run_loads_no_other_subcommand_nor_the_batches_runner(tmp_path: Path) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n")
    out_path = tmp_path / "out.jsonl"
    out = _probe(["run", str(prompts), "--out", str(out_path), "--simulate", "--limiter", "off", "--sim-ttft-ms", "0"],
                 NOT_FOR_RUN)
    assert "LOADED: none CODE: 0" in out, out
    assert '"status": "succeeded"' in out_path.read_text()


def test_a_subcommand_still_rejects_another_ones_flags() -> None:
    out = _probe(["run", "p.txt", "--db", "x.db"], ())  # --db is `history`'s
    assert "unrecognized arguments: --db" in out and "CODE: 2" in out
