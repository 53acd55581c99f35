"""Every test here runs with its own XDG dirs: nothing touches the real home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def xdg(tmp_path, monkeypatch):
    dirs = {}
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        path = tmp_path / "xdg" / name.lower()
        monkeypatch.setenv(f"XDG_{name}_HOME", str(path))
        dirs[name.lower()] = path
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_TUI_CONFIG", "CLAUDE_TUI_MODEL", "CLAUDE_TUI_MAX_TOKENS",
                "CLAUDE_TUI_CONCURRENCY", "CLAUDE_TUI_THEME", "CLAUDE_TUI_SYSTEM", "CLAUDE_TUI_STALL_TIMEOUT",
                "CLAUDE_TUI_MAX_ATTEMPTS", "CLAUDE_TUI_LOG_PROMPTS", "CLAUDE_TUI_SHOW_STATS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    dirs["root"] = tmp_path / "xdg"
    return dirs
