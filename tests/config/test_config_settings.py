from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from claude_tui import config as cfg
from claude_tui import paths
from claude_tui.config import ConfigError, load_settings


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_paths_follow_xdg(xdg):
    assert paths.config_file() == xdg["config"] / "claude-tui" / "config.toml"
    assert paths.history_db() == xdg["data"] / "claude-tui" / "history.db"
    assert str(paths.log_file()).startswith(str(xdg["state"]))
    assert paths.config_file({"CLAUDE_TUI_CONFIG": "/x/y.toml"}) == Path("/x/y.toml")


def test_defaults_without_file_create_nothing(xdg):
    s = load_settings(env={})
    assert s.model == "claude-sonnet-4-6"
    assert (s.max_tokens, s.system, s.concurrency) == (1024, None, 5)
    assert (s.retry.max_attempts, s.retry.base_seconds, s.retry.cap_seconds) == (5, 0.5, 30.0)
    assert (s.stall_timeout, s.theme, s.show_stats, s.log_prompts) == (30.0, "claude-dark", True, False)
    assert (s.api_key, s.base_url) == (None, None)
    assert (s.simulator.rpm, s.simulator.ttft_ms, s.simulator.tps, s.simulator.reply_tokens) == (50, 500.0, 70.0, 300)
    assert dict(s.prices) == {}
    assert all(src == "default" for src in s.sources.values())
    assert s.path == paths.config_file()
    assert not xdg["root"].exists() or not any(xdg["root"].rglob("*"))


def test_precedence_flag_env_file_default(xdg):
    path = write(
        paths.config_file(),
        "# my settings\n"
        'model = "claude-haiku-4-5"\n'
        "concurrency = 8\n"
        "max_tokens = 2000\n"
        "\n"
        "[retry]\n"
        "max_attempts = 3\n"
        "cap_seconds = 10\n"
        '[prices."claude-x"]\n'
        "input = 1.5\n"
        "output = 7\n",
    )
    env = {"CLAUDE_TUI_CONCURRENCY": "12", "CLAUDE_TUI_MAX_TOKENS": "3000", "CLAUDE_TUI_THEME": "claude-light"}
    s = load_settings({"max_tokens": 4000, "retry.max_attempts": None, "model": None}, env=env)
    # flag > env > file > default
    assert s.max_tokens == 4000 and s.source("max_tokens") == "command line (--max-tokens)"
    assert s.concurrency == 12 and s.source("concurrency") == "environment (CLAUDE_TUI_CONCURRENCY)"
    assert s.theme == "claude-light" and s.source("theme") == "environment (CLAUDE_TUI_THEME)"
    assert s.model == "claude-haiku-4-5" and s.source("model") == f"config file ({path}:2)"
    assert s.retry.max_attempts == 3 and s.source("retry.max_attempts") == f"config file ({path}:7)"
    assert s.retry.cap_seconds == 10.0 and isinstance(s.retry.cap_seconds, float)
    assert s.source("retry.cap_seconds") == f"config file ({path}:8)"
    assert s.retry.base_seconds == 0.5 and s.source("retry.base_seconds") == "default"
    assert s.source("prices") == f"config file ({path}:9)"
    assert s.prices["claude-x"] == cfg.PriceSetting(1.5, 7.0)
    assert s.price_table().price("claude-x").output == 7.0
    assert s.price_table().price("claude-sonnet-4-6") is not None  # built-ins kept
    # nested override dicts, and a custom flag name
    s2 = load_settings({"retry": {"max_attempts": 9}}, env={}, flag_names={"retry.max_attempts": "--retries"})
    assert s2.retry.max_attempts == 9 and s2.source("retry.max_attempts") == "command line (--retries)"
    assert s2.retry_policy().max_attempts == 9
    with pytest.raises(KeyError):
        s.source("nope")


def test_env_key_and_base_url(xdg):
    s = load_settings(env={"ANTHROPIC_API_KEY": "sk-ant-xyz-123456", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9/"})
    assert s.api_key == "sk-ant-xyz-123456" and s.source("api_key") == "environment (ANTHROPIC_API_KEY)"
    assert s.base_url == "http://127.0.0.1:9"
    assert "sk-ant" not in repr(s)
    assert s.as_dict()["api_key"] == "set"
    # empty variables count as unset
    assert load_settings(env={"ANTHROPIC_API_KEY": "", "CLAUDE_TUI_MODEL": ""}).source("model") == "default"


def test_cli_string_values_are_parsed_and_checked(xdg):
    assert load_settings({"concurrency": "7"}, env={}).concurrency == 7
    with pytest.raises(ConfigError) as err:
        load_settings({"concurrency": 0}, env={})
    assert str(err.value) == "config error: command line --concurrency: concurrency must be an integer from 1 to 256, got 0"
    with pytest.raises(ValueError):
        load_settings({"no_such": 1}, env={})


def test_overrides_from_namespace(xdg):
    ns = argparse.Namespace(model="m1", max_tokens=None, concurrency=3, max_attempts=2, stats=False, command="chat")
    assert cfg.overrides_from_namespace(ns) == {"model": "m1", "concurrency": 3, "retry.max_attempts": 2, "show_stats": False}


@pytest.mark.parametrize(
    "text, line, expected",
    [
        # bad TOML: tomllib's message, with its line
        ('model = "x"\nconcurrency = = 3\n', 2, "invalid TOML: Invalid value (at line 2, column 15)"),
        ('model = "x"\n\n[retry\n', 3, "invalid TOML"),
        # wrong type
        ('model = "x"\n[retry]\nmax_attempts = "five"\n', 3, 'retry.max_attempts must be an integer from 1 to 100, got "five"'),
        ("show_stats = 1\n", 1, "show_stats must be true or false, got 1"),
        ("model = 5\n", 1, "model must be a string, got 5"),
        ("concurrency = 2.5\n", 1, "concurrency must be an integer from 1 to 256, got 2.5"),
        ("concurrency = true\n", 1, "concurrency must be an integer from 1 to 256, got true"),
        ("retry = 3\n", 1, "retry must be a table ([retry]), got 3"),
        # unknown key (top level, in a table, in a dotted key)
        ('model = "x"\n\ntheme2 = "a"\n', 3, "unknown setting 'theme2' (did you mean 'theme'?)"),
        ("[simulator]\nrpm = 5\nrmp = 5\n", 3, "unknown setting 'simulator.rmp' (did you mean 'simulator.rpm'?)"),
        ("retry.max_attempt = 2\n", 1, "unknown setting 'retry.max_attempt'"),
        # out of range
        ('# c\nmodel = "x"\ntheme = "t"\nconcurrency = 0\n', 4, "concurrency must be an integer from 1 to 256, got 0"),
        ("max_tokens = -5\n", 1, "max_tokens must be an integer from 1 to 1000000, got -5"),
        ("\n\nstall_timeout = 0\n", 3, "stall_timeout must be a number from 0.1 to 3600, got 0"),
        ('[simulator]\nfaults = "rate_limit=2"\n', 2, "simulator.faults"),
        ('base_url = "ftp://x"\n', 1, "base_url must start with http:// or https://"),
        # prices
        ('[prices."claude-x"]\ninput = 1\noutput = "a"\n', 3, 'prices.claude-x.output must be a number of at least 0'),
        ('[prices."claude-x"]\ninput = 1\n', 1, "prices.claude-x needs output"),
        ('[prices]\n"claude-x" = { input = 1, output = 2, extra = 3 }\n', 2, "unknown setting 'prices.claude-x.extra'"),
        # a multi-line string does not confuse the line finder
        ('system = """\nconcurrency = 3\n"""\nconcurrency = 0\n', 4, "concurrency must be"),
    ],
)
def test_malformed_file_is_one_line_with_file_key_and_line(xdg, text, line, expected):
    path = write(paths.config_file(), text)
    with pytest.raises(ConfigError) as err:
        load_settings(env={})
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"config error: {path} line {line}: ")
    assert expected in message
    assert err.value.line == line


def test_exact_message_from_the_issue(xdg):
    path = write(paths.config_file(), 'model = "x"\nmax_tokens = 10\n\nconcurrency = 0\n')
    with pytest.raises(ConfigError) as err:
        load_settings(env={})
    assert str(err.value) == f"config error: {path} line 4: concurrency must be an integer from 1 to 256, got 0"


def test_bad_environment_value(xdg):
    with pytest.raises(ConfigError) as err:
        load_settings(env={"CLAUDE_TUI_CONCURRENCY": "lots"})
    assert str(err.value) == "config error: environment variable CLAUDE_TUI_CONCURRENCY: concurrency must be an integer from 1 to 256, got 'lots'"


def test_not_utf8_and_directory(xdg):
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b'model = "x"\ntheme = "\xff"\n')
    with pytest.raises(ConfigError, match=r"line 2: not valid UTF-8"):
        load_settings(env={})
    path.unlink()
    path.mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(env={})


def test_key_in_readable_file_refused_with_chmod_hint(xdg):
    path = write(paths.config_file(), 'api_key = "sk-ant-file-SECRET999"\n', mode=0o644)
    with pytest.raises(ConfigError) as err:
        load_settings(env={})
    message = str(err.value)
    assert "\n" not in message and f"chmod 600 {path}" in message and "0644" in message
    assert "SECRET999" not in message
    os.chmod(path, 0o600)
    s = load_settings(env={})
    assert s.api_key == "sk-ant-file-SECRET999" and s.source("api_key") == f"config file ({path}:1)"
    # the environment still wins over the file
    assert load_settings(env={"ANTHROPIC_API_KEY": "sk-ant-env-1234567"}).api_key == "sk-ant-env-1234567"


def test_readable_file_without_key_is_fine(xdg):
    write(paths.config_file(), 'model = "m"\n', mode=0o644)
    assert load_settings(env={}).model == "m"


def test_default_file_text_is_valid_and_sets_nothing(xdg, tmp_path):
    path = write(tmp_path / "c.toml", cfg.default_config_text())
    s = load_settings(env={}, path=path)
    assert all(src == "default" for src in s.sources.values())
    text = cfg.default_config_text()
    for spec in cfg.SPECS:
        assert spec.help in text


def test_simulator_settings_build_a_simulator_config(xdg):
    write(paths.config_file(), '[simulator]\nrpm = 7\nfaults = "rate_limit=0.1"\nseed = 3\n')
    s = load_settings(env={})
    sim = s.simulator.to_simulator_config()
    assert (sim.rpm, sim.seed, sim.faults) == (7, 3, {"rate_limit": 0.1})


def test_key_lines():
    text = '[a]\nb = 1\n[c."d.e"]\nf = { g = 1 }\n"h" = 2\n'
    lines = cfg.key_lines(text)
    assert lines["a.b"] == 2 and lines["c.d.e"] == 3 and lines["c.d.e.f.g"] == 4 and lines["c.d.e.h"] == 5


def test_import_is_textual_free():
    import subprocess
    import sys

    code = "import sys, claude_tui.config; print(any(m.startswith(('textual', 'anthropic', 'aiohttp')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_thinking_budget_for_new_chats_is_a_setting(xdg):
    """New chats start with thinking on when the config/env/flag gives a budget; the API's floor is checked up front."""
    from claude_tui.ui.launch import build_app

    assert load_settings(env={}).thinking_budget is None
    s = load_settings(env={"CLAUDE_TUI_THINKING_BUDGET": "2048"})
    assert s.thinking_budget == 2048
    app = build_app("http://127.0.0.1:9", thinking_budget=s.thinking_budget)
    assert app.defaults.thinking_budget == 2048 and app.defaults.max_tokens > 2048  # the API wants budget < max_tokens
    with pytest.raises(ConfigError) as err:
        load_settings({"thinking_budget": 500}, env={})
    assert "thinking_budget must be an integer from 1024" in str(err.value)
