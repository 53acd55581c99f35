"""A full disk under the history or the log: one notice, the run goes on, the exit reflects the prompts."""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from claude_tui import logs


@pytest.fixture(autouse=True)
def _teardown_logging():
    yield
    logs.teardown_logging()


def test_a_log_on_a_full_device_switches_itself_off_with_one_notice(capsys) -> None:
    notices: list[str] = []
    logs.setup_logging(path="/dev/full")
    with logs.notices_to(notices.append):
        for i in range(50):
            logging.getLogger("claude_tui.requests").info("job=%d status=done", i)
    logs.teardown_logging()
    assert notices == ["log off: disk full"]
    assert "Logging error" not in capsys.readouterr().err


def _run(tmp_path: Path, data: Path, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_TUI_"))}
    env.update({f"XDG_{n}_HOME": str(tmp_path / n.lower()) for n in ("CONFIG", "CACHE")})
    env.update({"XDG_DATA_HOME": str(data / "data"), "XDG_STATE_HOME": str(data / "state")})  # history and log
    config = tmp_path / "config" / "claude-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[simulator]\nttft_ms = 10\ntps = 2000\nreply_tokens = 30\nrpm = 0\nitpm = 0\notpm = 0\n")
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"prompt {i}\n" for i in range(100)))

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(  # results go to stdout (a pipe: no file, so neither full nor limited)
        [sys.executable, "-m", "claude_tui.cli", "run", str(prompts), "--simulate", "--concurrency", "4"],
        capture_output=True, text=True, env=env, timeout=120, preexec_fn=limit if fsize else None,
    )


def _assert_went_on(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]  # all 100 prompts succeeded: that is the exit status
    assert proc.stdout.count('"status": "succeeded"') == 100
    assert "Logging error" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A real full disk: a 256 KiB tmpfs (root only; skipped where mounting is not allowed). An empty
    history with its search index is 76 KiB, written twice at creation (the WAL, then the file)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("needs root to mount a tiny tmpfs")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_run_on_a_full_disk_keeps_going_and_exits_0(tmp_path: Path, tiny_disk: Path) -> None:
    proc = _run(tmp_path, tiny_disk)
    _assert_went_on(proc)
    assert proc.stderr.count("history off: disk full") == 1
    assert proc.stderr.count("log off: disk full") <= 1


def test_run_over_a_file_size_limit_keeps_going_and_exits_0(tmp_path: Path) -> None:
    """A real file-size limit (``prlimit --fsize``) under the history DB and the log: runs anywhere."""
    # Above what opening writes (the WAL holds every migration and the empty search index: 129 KiB
    # with the branches step), far below what 100 attempt rows write (a WAL frame of 4 KiB per commit).
    proc = _run(tmp_path, tmp_path, fsize=196608)
    _assert_went_on(proc)
    assert proc.stderr.count("history off: ") == 1 and proc.stderr.count("log off: ") <= 1
