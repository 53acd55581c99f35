from __future__ import annotations

import argparse
import io
import os
import stat

from claude_tui import paths
from claude_tui.cli import build_parser
from claude_tui.commands import config_cmd


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def call(*argv: str) -> tuple[int, str, str]:
    ns = parse(*argv)
    out, err = io.StringIO(), io.StringIO()
    code = ns.func(ns, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_path(xdg):
    code, out, err = call("config", "path")
    assert code == 0 and out.strip() == str(xdg["config"] / "claude-tui" / "config.toml") and not err
    assert not (xdg["config"] / "claude-tui").exists()


def test_init_writes_0600_and_refuses_to_overwrite(xdg):
    path = paths.config_file()
    code, out, _ = call("config", "init")
    assert code == 0 and str(path) in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.write_text('model = "mine"\n')
    code, out, err = call("config", "init")
    assert code == 1 and "already exists" in err and "--force" in err
    assert path.read_text() == 'model = "mine"\n'
    os.chmod(path, 0o644)
    code, _, _ = call("config", "init", "--force")
    assert code == 0 and "model = \"mine\"" not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_show_lists_every_setting_with_source_and_never_the_key(xdg, monkeypatch):
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text('\nconcurrency = 9\n')
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-SECRET123")
    monkeypatch.setenv("CLAUDE_TUI_MODEL", "claude-haiku-4-5")
    code, out, err = call("config", "show")
    assert code == 0, err
    assert "SECRET123" not in out
    lines = out.splitlines()
    by_key = {line.split(" = ")[0]: line for line in lines if " = " in line and not line.startswith(" ")}
    assert "set" in by_key["api_key"] and "[environment (ANTHROPIC_API_KEY)]" in by_key["api_key"]
    assert "[environment (CLAUDE_TUI_MODEL)]" in by_key["model"]
    assert f"[config file ({path}:2)]" in by_key["concurrency"]
    assert "[default]" in by_key["retry.max_attempts"]
    from claude_tui.config import SPECS

    for spec in SPECS:
        assert spec.key in by_key
        index = lines.index(by_key[spec.key])
        assert lines[index + 1].strip() == spec.help  # one-line explanation under each setting


def test_show_without_key_says_not_set(xdg):
    code, out, _ = call("config", "show")
    assert code == 0 and "api_key = not set" in out and "not created" in out


def test_show_on_malformed_file_exits_2_with_one_line(xdg):
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text("[retry]\nmax_attempts = 0\n")
    code, out, err = call("config", "show")
    assert code == 2 and not out
    assert err.count("\n") == 1 and f"{path} line 2" in err and "retry.max_attempts" in err


def test_config_file_option_and_bare_config(xdg, tmp_path):
    other = tmp_path / "other.toml"
    code, out, _ = call("config", "--file", str(other), "path")
    assert out.strip() == str(other)
    code, out, _ = call("config")
    assert code == 0 and "model = " in out


def test_run_default_streams(xdg, capsys):
    ns = parse("config", "path")
    assert config_cmd.run(ns) == 0
    assert capsys.readouterr().out.strip().endswith("config.toml")
