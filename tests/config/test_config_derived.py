"""One declaration per setting: the CLI flags, the engine's defaults and the environment all follow it.

Also issue #8.3: an empty environment variable is the same as an unset one, and a
``CLAUDE_TUI_CONFIG`` that names a missing file is one line and exit 2, not silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from claude_tui import cli, paths
from claude_tui.config import SPECS, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def _help(command: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        cli.build_parser().parse_args([command, "--help"])
    return out.getvalue()


@pytest.mark.parametrize("command", ["chat", "run"])
def test_every_flag_a_setting_names_exists_and_is_listed(command):
    text = _help(command)
    missing = [spec.flag for spec in SPECS if spec.flag and command in spec.commands and spec.flag not in text]
    assert missing == []
    assert sum(1 for spec in SPECS if spec.flag and command in spec.commands) >= 18


def test_derived_flags_reach_the_settings(xdg, tmp_path):
    ns = cli.build_parser().parse_args(
        ["run", "prompts.txt", "--max-attempts", "2", "--retry-cap", "1.5", "--stall-timeout", "4", "--sim-rpm", "0",
         "--fail", "stall=0.1", "--log-prompts", "--model", "m1"]
    )
    s = cli._settings(ns)
    assert (s.retry.max_attempts, s.retry.cap_seconds, s.stall_timeout) == (2, 1.5, 4.0)
    assert (s.simulator.rpm, s.simulator.faults, s.log_prompts, s.model) == (0, "stall=0.1", True, "m1")
    assert s.source("retry.max_attempts") == "command line (--max-attempts)"
    assert s.source("max_tokens") == "default"


def test_chat_only_flags(xdg):
    ns = cli.build_parser().parse_args(["chat", "--no-stats", "--theme", "claude-light"])
    s = cli._settings(ns)
    assert (s.show_stats, s.theme) == (False, "claude-light")
    assert "--theme" not in _help("run")


@pytest.mark.parametrize("argv", [["run", "f", "--max-attempts", "0"], ["run", "f", "--retry-base", "x"], ["chat", "--concurrency", "0"]])
def test_bad_flag_value_is_a_usage_error(argv):
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as exit:
        cli.build_parser().parse_args(argv)
    assert exit.value.code == 2
    assert "Traceback" not in err.getvalue() and "must be" in err.getvalue().splitlines()[-1]


def test_defaults_come_from_the_engine():
    from claude_tui.engine.job import DEFAULT_MAX_TOKENS, DEFAULT_MODEL
    from claude_tui.engine.pool import RequestPool
    from claude_tui.engine.retry import RetryPolicy
    from claude_tui.simulator import SimulatorConfig

    s = Settings()
    assert s.retry.policy() == RetryPolicy()
    assert (s.model, s.max_tokens) == (DEFAULT_MODEL, DEFAULT_MAX_TOKENS)
    pool_defaults = RequestPool.__init__.__kwdefaults__
    assert (s.concurrency, s.stall_timeout) == (pool_defaults["limit"], pool_defaults["stall_timeout"])
    sim = SimulatorConfig()
    for f in dataclasses.fields(s.simulator):
        if f.name != "faults":
            assert getattr(s.simulator, f.name) == getattr(sim, f.name), f.name
    # and the declared default is what load_settings gives when nothing is set
    assert {spec.key: spec.default for spec in SPECS} == {spec.key: Settings().get(spec.key) for spec in SPECS}


# ---- issue #8.3: empty means unset


def test_empty_base_url_in_environment_means_the_real_api(xdg, monkeypatch):
    """ANTHROPIC_BASE_URL="" was handed to the SDK as the URL: 5 attempts, then "missing protocol"."""
    from anthropic import AsyncAnthropic

    from claude_tui.backend import open_backend

    monkeypatch.setenv("ANTHROPIC_BASE_URL", "")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    s = load_settings()
    assert s.base_url is None and s.source("base_url") == "default"
    backend = open_backend(api_key=s.api_key, base_url=s.base_url)
    assert not backend.simulated and backend.label == "api.anthropic.com"
    client = AsyncAnthropic(api_key=backend.api_key, base_url=backend.base_url, max_retries=0)  # as the pool builds it
    assert str(client.base_url).rstrip("/") == "https://api.anthropic.com"


@pytest.mark.parametrize("var", ["ANTHROPIC_API_KEY", "CLAUDE_TUI_MODEL", "CLAUDE_TUI_CONCURRENCY", "CLAUDE_TUI_SHOW_STATS", "CLAUDE_TUI_CONFIG"])
def test_empty_environment_variable_is_unset(xdg, var):
    s = load_settings(env={var: ""})
    assert s == Settings(path=paths.config_file({}))
    assert all(src == "default" for src in s.sources.values())


def test_empty_api_key_means_the_simulator(xdg):
    from claude_tui.backend import open_backend

    backend = open_backend(api_key=load_settings(env={"ANTHROPIC_API_KEY": ""}).api_key, env={"ANTHROPIC_API_KEY": ""})
    try:
        assert backend.simulated
    finally:
        backend.close()


def test_config_env_naming_a_missing_file_is_an_error(xdg, tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as err:
        load_settings(env={"CLAUDE_TUI_CONFIG": str(missing)})
    assert str(err.value) == f"config error: CLAUDE_TUI_CONFIG names {missing}, which does not exist (create it with: claude-tui config init)"


def test_config_env_missing_file_cli_one_line_exit_2(xdg, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n")


    env = dict(os.environ, CLAUDE_TUI_CONFIG=str(tmp_path / "nope.toml"), PYTHONPATH=str(ROOT))
    env.pop("ANTHROPIC_API_KEY", None)
    proc = subprocess.run([sys.executable, "-m", "claude_tui.cli", "run", str(prompts), "--simulate"],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"config error: CLAUDE_TUI_CONFIG names {tmp_path / 'nope.toml'}, which does not exist (create it with: claude-tui config init)"]


def test_config_init_creates_the_file_config_env_names(xdg, tmp_path, monkeypatch):
    from claude_tui.commands import config_cmd

    target = tmp_path / "new.toml"
    monkeypatch.setenv("CLAUDE_TUI_CONFIG", str(target))
    out, err = io.StringIO(), io.StringIO()
    ns = cli.build_parser().parse_args(["config", "init"])
    assert config_cmd.run(ns, out=out, err=err) == 0 and target.exists()
    assert load_settings().path == target


def test_keys_flags_and_env_vars_are_unique_and_flags_do_not_clash_with_the_commands_own():
    for attr in ("key", "flag", "env"):
        names = [getattr(spec, attr) for spec in SPECS if getattr(spec, attr)]
        assert len(names) == len(set(names)), attr
    cli.build_parser()  # argparse raises on a flag registered twice (e.g. a spec flag also added by hand)


def test_the_docs_list_every_setting_and_flag():
    text = (ROOT / "docs" / "config-and-history.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for spec in SPECS:
        assert spec.key.rsplit(".", 1)[-1] in text, spec.key
        if spec.flag:
            assert spec.flag in text and spec.flag in readme, spec.flag
