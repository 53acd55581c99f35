"""Bad input to `run --distribute` and `worker`: one clear line and an exit code, never a traceback or a hang."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from claude_tui.cli import main

pytestmark = pytest.mark.timeout(120)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "p.txt"
    path.write_text("one\ntwo\n")
    return path


@pytest.mark.parametrize("extra, message", [
    ((), "--distribute needs --redis URL"),
    (("--redis", "redis://127.0.0.1:1/0", "--mode", "batch"), "does not combine with --mode batch"),
])
def test_distribute_flags_checked(prompts: Path, tmp_path: Path, capsys, extra, message) -> None:
    code = main(["run", str(prompts), "--distribute", "--out", str(tmp_path / "o.jsonl"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_distribute_needs_out(prompts: Path, capsys) -> None:
    assert main(["run", str(prompts), "--distribute", "--redis", "redis://127.0.0.1:1/0"]) == 2
    assert "--distribute needs --out" in capsys.readouterr().err


def test_unreachable_redis_is_one_line(prompts: Path, tmp_path: Path, capsys) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    code = main(["run", str(prompts), "--distribute", "--redis", url, "--out", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err
    assert code == 1 and f"cannot reach Redis at {url}" in err and "Traceback" not in err


def test_worker_needs_redis(capsys) -> None:
    assert main(["worker"]) == 2
    assert "claude-tui worker: needs --redis URL" in capsys.readouterr().err


def test_worker_with_unreachable_redis_exits(capsys, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("CLAUDE_TUI_NO_HISTORY", "1")
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    assert main(["worker", "--redis", url]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach Redis at {url}" in err and "Traceback" not in err


def test_worker_refuses_request_flags(capsys) -> None:
    assert main(["worker", "--redis", "redis://127.0.0.1:1/0", "--model", "claude-haiku-4-5"]) == 2
    assert "--model: the job sets the request; pass it to `run --distribute`" in capsys.readouterr().err
