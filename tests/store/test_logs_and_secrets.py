"""The log file, and the rule that the API key is never written anywhere."""

from __future__ import annotations

import io
import logging
import time

import pytest

from claude_tui import logs, paths
from claude_tui.cli import build_parser
from claude_tui.config import load_settings
from claude_tui.engine.events import AttemptFailed, BackingOff, Cancelled, Done, Failed, Queued, Started, Submitted, TextDelta, Timings, Usage
from claude_tui.engine.job import Correlation, Job
from claude_tui.store import HistoryRecorder, HistoryStore
from claude_tui.store import export as exporter

KEY = "sk-ant-test-SECRET123"


@pytest.fixture(autouse=True)
def _teardown_logging():
    yield
    logs.teardown_logging()


def read_log() -> str:
    for handler in logging.getLogger("claude_tui").handlers:
        handler.flush()
    return paths.log_file().read_text()


def test_log_file_is_created_lazily(xdg):
    logs.setup_logging(load_settings(env={}))
    assert not paths.log_dir().exists()
    logging.getLogger("claude_tui.requests").info("hello")
    assert "hello" in read_log()
    assert oct(paths.log_file().stat().st_mode & 0o777) == "0o600"


def test_request_logger_lines(xdg):
    logs.setup_logging(load_settings(env={}))
    rl = logs.RequestLogger()
    job = Job.from_prompt("my secret prompt text", model="claude-sonnet-4-6")
    t0 = time.monotonic()
    rl.observe(Submitted(job.id, t0, job))
    rl.observe(AttemptFailed(job_id=job.id, at=t0 + 1, attempt=1, kind="rate_limit", message="slow down", status_code=429, retryable=True, request_id="req_a", partial_text="", usage=Usage(), started=t0, ended=t0 + 0.25))
    rl.observe(BackingOff(job_id=job.id, at=t0 + 1, attempt=1, max_attempts=5, delay=2.0, deadline=t0 + 3, reason="rate_limit", status_code=429, message="slow down", from_retry_after=True))
    rl.observe(Done(job_id=job.id, at=t0 + 4, text="the reply text", thinking="", usage=Usage(12, 34), stop_reason="end_turn", model="claude-sonnet-4-6", request_id="req_b", attempts=2,
                    timings=Timings(t0, t0 + 3, t0 + 3.2, t0 + 4), cost=0.0005))
    rl.observe(Failed(job_id="job-x", at=t0, kind="overloaded", message="overloaded", status_code=529, retryable=True, partial_text="", attempts=5, request_id="req_c", timings=Timings(t0, finished=t0 + 9)))
    rl.observe(Cancelled(job_id="job-y", at=t0, partial_text="abc", attempts=1, timings=Timings(t0, finished=t0 + 1)))
    rl.observe(TextDelta(job.id, t0, "ignored"))
    text = read_log()
    assert f"job={job.id} attempt=1 failed kind=rate_limit status=429 retryable=True request_id=req_a elapsed_ms=250" in text
    assert f"job={job.id} backing_off delay_s=2.00 next_attempt=2/5 reason=rate_limit status=429 retry_after=yes" in text
    assert f"job={job.id} status=done model=claude-sonnet-4-6 attempts=2 retries=1 ttft_ms=200 latency_ms=1000 total_ms=4000" in text
    assert "input_tokens=12 output_tokens=34 cost=0.000500 stop_reason=end_turn request_id=req_b" in text
    assert "job=job-x status=failed kind=overloaded status_code=529 attempts=5 retries=4" in text
    assert "job=job-y status=cancelled attempts=1" in text
    assert "my secret prompt text" not in text and "the reply text" not in text and "ignored" not in text


def test_log_prompts_opt_in(xdg):
    logs.setup_logging(load_settings(env={}))
    rl = logs.RequestLogger(log_prompts=True)
    job = Job.from_prompt("tell me about WAL")
    t0 = time.monotonic()
    rl.observe(Submitted(job.id, t0, job))
    rl.observe(Done(job_id=job.id, at=t0, text="WAL is...", thinking="", usage=Usage(), stop_reason="end_turn", model="m", request_id=None, attempts=1, timings=Timings(t0, t0, t0, t0)))
    text = read_log()
    assert 'prompt="tell me about WAL"' in text and 'reply="WAL is..."' in text


def test_redaction_filter(xdg):
    logs.setup_logging(api_key="my-custom-key-0000")
    log = logging.getLogger("claude_tui.x")
    log.warning("key %s and %s and sk-ant-api03-abcDEF_123-xyz", "my-custom-key-0000", KEY)
    try:
        raise RuntimeError(f"auth failed for {KEY}")
    except RuntimeError:
        log.exception("boom")
    text = read_log()
    assert "my-custom-key-0000" not in text and "SECRET123" not in text and "abcDEF" not in text
    assert text.count(logs.REDACTED) >= 4 and "RuntimeError" in text
    assert logs.redact(f"x {KEY} y") == f"x {logs.REDACTED} y"


def test_rotation(xdg, tmp_path):
    logs.setup_logging(path=tmp_path / "l" / "app.log", max_bytes=2000, backups=2)
    log = logging.getLogger("claude_tui.r")
    for i in range(200):
        log.info("line %d %s", i, "x" * 50)
    assert (tmp_path / "l" / "app.log.1").exists() and (tmp_path / "l" / "app.log.2").exists()
    assert not (tmp_path / "l" / "app.log.3").exists()


def test_the_key_is_written_nowhere(xdg, monkeypatch, capsys):
    """A store + logs + export + config scenario with a key in the environment; grep every file."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    settings = load_settings()
    assert settings.api_key == KEY
    logs.setup_logging(settings)
    paths.ensure_dirs()
    store = HistoryStore.open()
    recorder = HistoryRecorder(store, prices=settings.price_table())
    requests = logs.RequestLogger(log_prompts=True)  # even with prompts logged

    conv = store.create_conversation(f"about {KEY}", settings.model, f"system mentions {KEY}")
    store.add_user_message(conv, f"is my key {KEY} valid?")
    msg = store.start_assistant_message(conv)
    job = Job.from_prompt(f"is my key {KEY} valid?", model=settings.model,
                          correlation=Correlation(conversation_id=conv, message_id=msg))
    t0 = time.monotonic()
    events = [
        Submitted(job.id, t0, job),
        Queued(job.id, t0, 0),
        Started(job.id, t0, 1),
        TextDelta(job.id, t0, f"Your key {KEY} "),
        AttemptFailed(job_id=job.id, at=t0 + 1, attempt=1, kind="authentication", message=f"invalid x-api-key: {KEY}", status_code=401, retryable=True, request_id="req_1", partial_text=f"Your key {KEY} ",
                      usage=Usage(), started=t0, ended=t0 + 1),
        BackingOff(job_id=job.id, at=t0 + 1, attempt=1, max_attempts=3, delay=0.1, deadline=t0 + 1.1, reason="authentication", status_code=401, message=f"invalid x-api-key: {KEY}", from_retry_after=False),
        Started(job.id, t0 + 1.1, 2),
        TextDelta(job.id, t0 + 1.2, f"looks like {KEY}"),
        Done(job_id=job.id, at=t0 + 2, text=f"looks like {KEY}", thinking="", usage=Usage(3, 4), stop_reason="end_turn", model=settings.model, request_id="req_2", attempts=2, timings=Timings(t0, t0 + 1.1, t0 + 1.2, t0 + 2)),
    ]
    for ev in events:
        recorder.observe(ev)
        requests.observe(ev)
    recorder.close()  # its last batch committed, as Services.close() does
    failed_msg = store.start_assistant_message(conv)
    store.finish_assistant_message(failed_msg, f"partial {KEY}", status="failed")
    assert recorder.last_error is None

    export_dir = xdg["data"] / "exports"
    export_dir.mkdir()
    conversation = store.get_conversation(conv)
    (export_dir / "c.md").write_text(exporter.to_markdown(conversation))
    (export_dir / "c.json").write_text(exporter.to_json(conversation))
    store.close()

    parser = build_parser()
    for argv in (["config", "init"], ["config", "show"], ["history", "list"], ["history", "show", str(conv)], ["history", "stats"]):
        ns = parser.parse_args(argv)
        assert ns.func(ns) == 0
    captured = capsys.readouterr()
    assert "SECRET123" not in captured.out and "SECRET123" not in captured.err
    for handler in logging.getLogger("claude_tui").handlers:
        handler.flush()

    files = [p for p in xdg["root"].rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"history.db", "claude-tui.log", "config.toml", "c.md", "c.json"} <= names
    for path in files:
        data = path.read_bytes()
        assert b"SECRET123" not in data, f"key found in {path}"
    assert logs.REDACTED in paths.log_file().read_text()
