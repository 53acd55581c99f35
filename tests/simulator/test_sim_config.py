"""Config, fault specs and the command-line flags."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from claude_tui.simulator import SimulatorConfig, add_simulate_arguments, config_from_args, parse_faults
from claude_tui.simulator.replies import reply_tokens, request_rng


def test_parse_faults() -> None:
    assert parse_faults("rate_limit=0.05,stall=0.01") == {"rate_limit": 0.05, "stall": 0.01}
    assert parse_faults("") == {}
    assert parse_faults(" overloaded = 0.5 , ") == {"overloaded": 0.5}
    assert parse_faults("stream-error=0.1") == {"stream_error": 0.1}


@pytest.mark.parametrize(("spec", "fragment"), [
    ("gremlins=0.1", "unknown fault kind 'gremlins'"),
    ("stall", "expected KIND=RATE"),
    ("stall=lots", "bad rate 'lots'"),
    ("stall=1.5", "between 0 and 1"),
    ("stall=-0.1", "between 0 and 1"),
    ("stall=nan", "bad rate"),
    ("stall=0.6,overloaded=0.6", "must not exceed 1"),
])
def test_parse_faults_errors_are_one_line(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_faults(spec)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_config_defaults_are_safe_and_friendly() -> None:
    cfg = SimulatorConfig()
    assert cfg.host == "127.0.0.1"
    assert (cfg.rpm, cfg.itpm, cfg.otpm) == (50, 100_000, 20_000)
    assert 0.3 <= cfg.ttft_ms / 1000 <= 1.0 and 50 <= cfg.tps <= 100
    with pytest.raises(ValueError):
        SimulatorConfig(faults={"nope": 0.1})
    with pytest.raises(ValueError):
        SimulatorConfig(tps=-1)


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="claude-tui simulate")
    add_simulate_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_flags_build_a_config() -> None:
    cfg = config_from_args(_parse("--port", "0", "--rpm", "5", "--itpm", "0", "--otpm", "900", "--ttft-ms", "0",
                                  "--tps", "0", "--reply-tokens", "40", "--seed", "3",
                                  "--fail", "rate_limit=0.05,stall=0.01", "--stall-seconds", "2"))
    assert (cfg.port, cfg.rpm, cfg.itpm, cfg.otpm) == (0, 5, None, 900)
    assert (cfg.ttft_ms, cfg.tps, cfg.reply_tokens, cfg.seed, cfg.stall_seconds) == (0, 0, 40, 3, 2)
    assert cfg.faults == {"rate_limit": 0.05, "stall": 0.01}
    default = config_from_args(_parse())
    assert default.host == "127.0.0.1" and default.port == 8765 and default.faults == {}


def test_cli_limit_and_exposure_flags() -> None:
    cfg = config_from_args(_parse("--burst-seconds", "2", "--header-timeout", "3", "--body-timeout", "4",
                                  "--api-key", "k1", "--host", "0.0.0.0", "--fail", "reset=0.1,refusal=0.1"))
    assert (cfg.burst, cfg.header_timeout, cfg.body_timeout, cfg.api_keys) == (2, 3, 4, frozenset({"k1"}))
    assert config_from_args(_parse("--burst", "7")).burst == 7  # the old spelling still works
    assert config_from_args(_parse()).burst == 5 and config_from_args(_parse()).api_keys == frozenset()


@pytest.mark.parametrize("argv", [
    ("--port", "70000"), ("--rpm", "-1"), ("--tps", "fast"), ("--reply-tokens", "0"),
    ("--fail", "gremlins=0.1"), ("--fail", "stall=2"),
])
def test_cli_bad_values_exit_2_with_one_line(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _parse(*argv)
    assert info.value.code == 2
    error_lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(error_lines) == 1


def test_cli_helpers_do_not_import_aiohttp() -> None:
    code = ("import sys, claude_tui.simulator as s; from claude_tui.simulator.cli_args import config_from_args; "
            "s.SimulatorConfig(); assert 'aiohttp' not in sys.modules, 'aiohttp imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_reply_generator_is_deterministic_and_exact() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "Explain backoff"}]}
    a = reply_tokens(request_rng(1, body), 500, body, clean_end=True)
    b = reply_tokens(request_rng(1, body), 500, body, clean_end=True)
    c = reply_tokens(request_rng(2, body), 500, body, clean_end=True)
    assert a == b and a != c
    assert len(a) == 500 and all(a)
    assert "backoff" in "".join(a)[:200]  # the opening names the prompt's topic
    mean = sum(map(len, a)) / len(a)
    assert 2.5 <= mean <= 6  # a token is a short word piece
