"""The front door: --version and --help are fast (no Textual, no SDK import) and the README example runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from claude_tui.cli import main
try:
    main([{arg!r}])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in ("textual", "anthropic", "aiohttp", "httpx2") if m in sys.modules)
print("HEAVY:", ",".join(heavy) or "none", "CODE:", code)
"""


def _probe(arg: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE.format(arg=arg)], capture_output=True, text=True, timeout=30)
    return result.stdout


def test_version_imports_nothing_heavy() -> None:
    out = _probe("--version")
    assert "claude-tui 0." in out
    assert "HEAVY: none CODE: 0" in out


def test_help_lists_commands_without_heavy_imports() -> None:
    out = _probe("--help")
    for command in ("chat", "simulate", "run", "bench", "history", "config"):
        assert command in out
    assert "HEAVY: none CODE: 0" in out


def test_library_example_runs() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "library.py")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "20 done, 0 failed" in result.stdout and "TTFT p50" in result.stdout


def test_engine_imports_nothing_from_the_ui() -> None:
    code = (
        "import sys, claude_tui.engine.pool, claude_tui.engine.metrics, claude_tui.headless.run, claude_tui.store;"
        "print(sorted(m for m in sys.modules if m.startswith(('textual', 'claude_tui.ui'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
