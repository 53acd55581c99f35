"""HistoryRecorder fed with engine events built by hand (they are plain dataclasses)."""

from __future__ import annotations

import time

import pytest

from claude_tui.engine.events import (
    AttemptFailed,
    BackingOff,
    Cancelled,
    Done,
    Failed,
    FirstToken,
    Queued,
    Started,
    Submitted,
    TextDelta,
    ThinkingDelta,
    Timings,
    Usage,
)
from claude_tui.engine.job import Correlation, Job
from claude_tui.engine.pricing import PriceTable
from claude_tui.store import HistoryRecorder, HistoryStore


@pytest.fixture
def store(tmp_path):
    s = HistoryStore.open(tmp_path / "h.db")
    yield s
    s.close()


def submitted(job, at):
    """What the pool emits first for every job: the Job itself (the recorder learns its ids there)."""
    return Submitted(job.id, at, job)


def job_for(job_id, conv, msg, model="m"):
    return Job.from_prompt("p", model=model, id=job_id, correlation=Correlation(conversation_id=conv, message_id=msg))


def test_retry_then_done(store):
    conv = store.create_conversation("t", "claude-sonnet-4-6")
    store.add_user_message(conv, "hi")
    msg = store.start_assistant_message(conv)
    rec = HistoryRecorder(store, prices=PriceTable())
    job = Job.from_prompt("hi", model="claude-sonnet-4-6", correlation=Correlation(conversation_id=conv, message_id=msg))
    t0 = time.monotonic() - 5
    for ev in [
        submitted(job, t0),
        Queued(job.id, t0, 0),
        Started(job.id, t0 + 0.1, 1),
        FirstToken(job.id, t0 + 0.4, 0.3, 1),
        TextDelta(job.id, t0 + 0.5, "Hel"),
        AttemptFailed(job_id=job.id, at=t0 + 1.0, attempt=1, kind="disconnect", message="connection dropped", status_code=None, retryable=True, request_id="req_1", partial_text="Hel", usage=Usage(10, 2), started=t0 + 0.1, ended=t0 + 1.0),
        BackingOff(job_id=job.id, at=t0 + 1.0, attempt=1, max_attempts=5, delay=0.5, deadline=t0 + 1.5, reason="disconnect", status_code=None, message="connection dropped", from_retry_after=False),
        Started(job.id, t0 + 1.5, 2),
        FirstToken(job.id, t0 + 1.7, 0.2, 2),
        ThinkingDelta(job.id, t0 + 1.7, "hmm"),
        TextDelta(job.id, t0 + 1.8, "Hello"),
        TextDelta(job.id, t0 + 1.9, " world"),
        Done(job_id=job.id, at=t0 + 2.5, text="Hello world", thinking="hmm", usage=Usage(10, 4), stop_reason="end_turn", model="claude-sonnet-4-6", request_id="req_2", attempts=2,
             timings=Timings(t0, t0 + 1.5, t0 + 1.7, t0 + 2.5), cost=0.0123),
    ]:
        rec.observe(ev)
    rec.flush()  # the recorder commits in batches (every 0.1 s); flush = what the timer does
    assert rec.last_error is None
    first, second = store.attempts(job_id=job.id)
    assert (first.attempt, first.status, first.error_kind, first.request_id, first.retries) == (1, "error", "disconnect", "req_1", 0)
    assert first.ttft_ms == pytest.approx(300) and first.latency_ms == pytest.approx(900)
    assert first.cost == pytest.approx((10 * 3 + 2 * 15) / 1e6)
    assert (second.attempt, second.status, second.request_id, second.retries, second.cost) == (2, "ok", "req_2", 1, 0.0123)
    assert second.ttft_ms == pytest.approx(200) and second.latency_ms == pytest.approx(1000)
    assert (second.conversation_id, second.message_id, second.model) == (conv, msg, "claude-sonnet-4-6")
    assert abs(second.ended_at - (time.time() - 2.5)) < 1.0  # monotonic converted to wall clock
    reply = store.get_message(msg)
    assert (reply.status, reply.text, reply.thinking, reply.stop_reason, reply.cost) == ("complete", "Hello world", "hmm", "end_turn", 0.0123)
    assert reply.usage["output_tokens"] == 4


def test_failed_marks_the_last_attempt_and_keeps_partial_text(store):
    conv = store.create_conversation("t", "claude-haiku-4-5")
    msg = store.start_assistant_message(conv)
    rec = HistoryRecorder(store)
    t0 = time.monotonic()
    rec.observe(submitted(job_for("j", conv, msg, model="claude-haiku-4-5"), t0))
    rec.observe(Started("j", t0, 1))
    rec.observe(TextDelta("j", t0, "partial "))
    rec.observe(AttemptFailed(job_id="j", at=t0 + 1, attempt=1, kind="overloaded", message="529", status_code=529, retryable=True, request_id=None, partial_text="partial ", usage=Usage(), started=t0, ended=t0 + 1))
    rec.observe(Failed(job_id="j", at=t0 + 1, kind="overloaded", message="529", status_code=529, retryable=True, partial_text="partial ", attempts=1, request_id=None, timings=Timings(t0, t0, None, t0 + 1)))
    rec.flush()
    [row] = store.attempts(job_id="j")
    assert (row.status, row.error_kind, row.status_code, row.model) == ("failed", "overloaded", 529, "claude-haiku-4-5")
    reply = store.get_message(msg)
    assert (reply.status, reply.text) == ("failed", "partial ")


def test_failed_without_attempt_row_gets_one(store):
    rec = HistoryRecorder(store)
    t0 = time.monotonic()
    rec.observe(Failed(job_id="k", at=t0, kind="authentication", message="bad key", status_code=401, retryable=False, partial_text="", attempts=1, request_id="req_x", timings=Timings(t0, t0, None, t0 + 0.2)))
    rec.flush()
    [row] = store.attempts(job_id="k")
    assert (row.status, row.error_kind, row.conversation_id, row.request_id) == ("failed", "authentication", None, "req_x")


def test_cancelled_mid_stream_and_while_queued(store):
    conv = store.create_conversation("t", "m")
    msg = store.start_assistant_message(conv)
    rec = HistoryRecorder(store)
    t0 = time.monotonic()
    rec.observe(submitted(job_for("c1", conv, msg), t0))
    rec.observe(Started("c1", t0, 1))
    rec.observe(TextDelta("c1", t0, "so far"))
    rec.observe(Cancelled(job_id="c1", at=t0 + 1, partial_text="so far", attempts=1, timings=Timings(t0, t0, t0 + 0.1, t0 + 1)))
    rec.flush()
    [row] = store.attempts(job_id="c1")
    assert (row.status, row.model, row.ttft_ms) == ("cancelled", "m", pytest.approx(100))
    assert store.get_message(msg).status == "cancelled" and store.get_message(msg).text == "so far"
    rec.observe(submitted(job_for("c2", None, None), t0))
    rec.observe(Cancelled(job_id="c2", at=t0, partial_text="", attempts=0, timings=Timings(t0, finished=t0)))
    rec.flush()
    assert store.attempts(job_id="c2") == []  # nothing was sent


def test_untagged_headless_jobs_and_opt_out(store):
    rec = HistoryRecorder(store)
    t0 = time.monotonic()
    done = Done(job_id="h1", at=t0, text="x", thinking="", usage=Usage(1, 1), stop_reason="end_turn", model="m", request_id="r", attempts=1, timings=Timings(t0, t0, t0, t0 + 0.05))
    rec.observe(done)
    rec.flush()
    [row] = store.attempts(job_id="h1")
    assert row.conversation_id is None and row.status == "ok"
    quiet = HistoryRecorder(store, record_untagged=False)
    quiet.observe(Done(job_id="h2", at=t0, text="x", thinking="", usage=Usage(1, 1), stop_reason="end_turn", model="m", request_id="r", attempts=1, timings=Timings(t0, t0, t0, t0 + 0.05)))
    quiet.flush()
    assert store.attempts(job_id="h2") == []


def test_database_errors_are_contained(store):
    conv = store.create_conversation("t", "m")
    msg = store.start_assistant_message(conv)
    rec = HistoryRecorder(store)
    t0 = time.monotonic()
    rec.observe(submitted(job_for("t1", conv, msg), t0))
    rec.observe(TextDelta("t1", t0, "abc"))
    rec.observe(Done(job_id="t1", at=t0, text="abc", thinking="", usage=Usage(), stop_reason="end_turn", model="m", request_id=None, attempts=1, timings=Timings(t0, t0, t0, t0)))
    rec.flush()
    assert store.get_message(msg).text == "abc"
    store.close()
    rec.observe(Done(job_id="t2", at=t0, text="abc", thinking="", usage=Usage(), stop_reason="end_turn", model="m", request_id=None, attempts=1, timings=Timings(t0, t0, t0, t0)))  # no raise
    rec.flush()  # the write fails at the commit: logged and kept, never raised
    assert rec.last_error is not None
