"""The history's writes are batched: one transaction per ~0.1 s window, not one per attempt."""

from __future__ import annotations

import asyncio
import time

from claude_tui.engine.events import Done, Started, Submitted, TextDelta, Timings, Usage
from claude_tui.engine.job import Correlation, Job
from claude_tui.store import HistoryRecorder, HistoryStore


def done(job_id: str, t: float) -> Done:
    return Done(job_id=job_id, at=t, text="x", thinking="", usage=Usage(1, 1), stop_reason="end_turn", model="m",
                request_id=None, attempts=1, timings=Timings(t, t, t, t))


async def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 60  # only a hang detector
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.02)


async def test_many_finished_attempts_commit_together_on_the_loop_timer(tmp_path):
    with HistoryStore.open(tmp_path / "h.db") as store:
        recorder = HistoryRecorder(store, batch_interval=0.1)
        conv = store.create_conversation("t", "m")
        msg = store.start_assistant_message(conv)
        job = Job.from_prompt("p", model="m", id="chat", correlation=Correlation(conversation_id=conv, message_id=msg))
        t = time.monotonic()
        recorder.observe(Submitted(job.id, t, job))
        recorder.observe(Started(job.id, t, 1))
        for i in range(500):  # one loop turn: all inside one window
            recorder.observe(TextDelta(job.id, t, "ab"))
            recorder.observe(done(f"h{i}", t))
        assert store.attempts() == []  # queued, not yet committed
        await wait_for(lambda: len(store.attempts()) == 500, "500 rows committed by the timer")
        assert recorder.batcher is not None and recorder.batcher.commits == 1
        assert store.get_message(msg).text == "ab" * 500  # the streamed reply rode the same commit
        recorder.observe(done("chat", t))
        recorder.close()  # what Services.close() does: the last batch is committed
        assert store.get_message(msg).status == "complete" and len(store.attempts()) == 501


def test_a_failed_write_undoes_only_itself(tmp_path):
    with HistoryStore.open(tmp_path / "h.db") as store:
        errors: list[Exception] = []
        from claude_tui.store.writer import WriteBatcher

        batcher = WriteBatcher(store, timer=False, on_error=errors.append)
        batcher.add(lambda s: s.record_attempt("a", attempt=1, status="ok"))
        batcher.add(lambda s: s.record_attempt("b", attempt=1, status="no such status"))
        batcher.add(lambda s: s.record_attempt("c", attempt=1, status="ok"))
        batcher.flush()
        assert [r.job_id for r in store.attempts()] == ["a", "c"]
        assert len(errors) == 1 and "attempt status" in str(errors[0])
