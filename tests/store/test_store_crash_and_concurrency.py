"""Real processes: kill -9 mid-stream, two writers at once, a corrupt file moved aside."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from claude_tui import paths
from claude_tui.store import HistoryStore

CHILD = r"""
import sys, time
from claude_tui.store import HistoryStore, StreamingWriter
store = HistoryStore.open(sys.argv[1])
conv = store.create_conversation("crash test", "claude-sonnet-4-6")
store.add_user_message(conv, "tell me a long story")
msg = store.start_assistant_message(conv)
writer = StreamingWriter(store, msg)
print(f"ready {conv} {msg}", flush=True)
i = 0
while True:
    writer.append(f"w{i:05d} ")
    i += 1
    print(f"{time.time():.6f} {i * 7}", flush=True)   # wall clock, characters streamed so far
    time.sleep(0.01)
"""


def stream_then_kill_9(child: str, db: Path) -> tuple[int, int, list[tuple[float, ...]], float]:
    """Run ``child`` (it prints "ready CONV MSG", then "WALLCLOCK COUNT" lines as it streams) and
    kill -9 it once it reports 2.5 s of streaming (its own lines, not a sleep here): the ids, every
    progress line it printed, and when it was killed."""
    proc = subprocess.Popen([sys.executable, "-c", child, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        ready = proc.stdout.readline().split()
        assert ready[0] == "ready", ready
        conv_id, msg_id = int(ready[1]), int(ready[2])
        seen: list[tuple[float, ...]] = []
        while not seen or seen[-1][0] - seen[0][0] < 2.5:
            line = proc.stdout.readline()
            assert line, "the child stopped streaming"
            seen.append(tuple(map(float, line.split())))
        killed_at = time.time()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    progress = seen + [tuple(map(float, line.split())) for line in proc.stdout.read().splitlines() if line.strip()]
    return conv_id, msg_id, progress, killed_at


def test_kill_9_mid_stream_keeps_prompt_and_all_but_the_last_second(tmp_path):
    db = tmp_path / "h.db"
    conv_id, msg_id, progress, killed_at = stream_then_kill_9(CHILD, db)
    assert len(progress) > 50
    expected = "".join(f"w{i:05d} " for i in range(int(progress[-1][1]) // 7))

    with HistoryStore.open(db) as store:
        conv = store.get_conversation(conv_id)
        assert [m.role for m in conv.messages] == ["user", "assistant"]
        assert conv.messages[0].text == "tell me a long story"
        reply = store.get_message(msg_id)
        assert reply.status == "interrupted" and msg_id in store.recovered
        assert reply.text and expected.startswith(reply.text)
        # everything streamed up to one second before the kill was saved
        due = max(n for t, n in progress if t <= killed_at - 1.0)
        assert len(reply.text) >= due, (len(reply.text), due, len(expected))
        assert store.integrity_check() == "ok"


def _writer(db: str, tag: str, n: int, ready, start) -> None:
    from claude_tui.store import HistoryStore

    store = HistoryStore.open(db)
    ready.put(tag)
    start.wait()
    for i in range(n):
        c = store.create_conversation(f"{tag}-{i}", "m")
        store.add_user_message(c, f"prompt {tag} {i}")
        m = store.start_assistant_message(c)
        store.update_assistant_text(m, "partial")
        store.finish_assistant_message(m, f"reply {tag} {i}", usage={"output_tokens": 2})
        store.record_attempt(f"{tag}-job-{i}", attempt=1, status="ok", conversation_id=c, message_id=m, model="m", latency_ms=float(i))
    store.close()


def test_two_processes_writing_at_once(tmp_path):
    db = str(tmp_path / "h.db")
    HistoryStore.open(db).close()
    ctx = multiprocessing.get_context("spawn")
    start, ready = ctx.Event(), ctx.Queue()
    n = 150
    procs = [ctx.Process(target=_writer, args=(db, tag, n, ready, start)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    assert sorted(ready.get(timeout=60) for _ in procs) == ["a", "b"]  # both open: they write at once
    start.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with HistoryStore.open(db) as store:
        assert store.integrity_check() == "ok"
        conn = store._conn
        assert conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 2 * n
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 4 * n
        assert conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 2 * n
        assert conn.execute("SELECT COUNT(*) FROM messages WHERE status != 'complete'").fetchone()[0] == 0
        for tag in ("a", "b"):
            assert len(store.list_conversations(f"prompt {tag} ", limit=1000)) == n


def test_garbage_database_is_moved_aside_byte_identical(xdg):
    db = paths.history_db()
    db.parent.mkdir(parents=True)
    garbage = bytes(range(256)) * 40
    db.write_bytes(garbage)
    Path(str(db) + "-wal").write_bytes(b"junk wal")
    store = HistoryStore.open()
    try:
        assert store.notice and store.notice.startswith("history database was unreadable")
        assert "\n" not in store.notice and "started a new one" in store.notice
        moved = [p for p in db.parent.iterdir() if p.name.startswith("history.db.corrupt-") and not p.name.endswith(("-wal", "-shm"))]
        assert len(moved) == 1 and str(moved[0]) in store.notice
        assert moved[0].read_bytes() == garbage
        assert Path(str(moved[0]) + "-wal").read_bytes() == b"junk wal"
        # the fresh database works
        c = store.create_conversation("new", "m")
        assert store.get_conversation(c).title == "new"
    finally:
        store.close()
    # a second corrupt file the same second gets its own name, never overwriting the first
    store2 = HistoryStore.open()
    store2.close()
    db.write_bytes(b"more garbage" * 100)
    with HistoryStore.open() as store3:
        assert store3.notice
    moved = sorted(p.name for p in db.parent.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm")))
    assert len(moved) == 2


def test_damaged_pages_fail_the_integrity_check_and_are_moved(tmp_path):
    db = tmp_path / "h.db"
    with HistoryStore.open(db) as store:
        for i in range(300):
            c = store.create_conversation(f"conversation {i}", "m")
            store.add_user_message(c, "x" * 500)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 20 * page
    for offset in range(5 * page, 15 * page, page):  # scribble over b-tree pages, keep the header
        data[offset : offset + 200] = b"\xa5" * 200
    db.write_bytes(bytes(data))
    original = db.read_bytes()
    with HistoryStore.open(db) as store:
        assert store.notice and "moved to" in store.notice
        assert store.list_conversations() == []
    [moved] = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert moved.read_bytes() == original


BATCHED_CHILD = r"""
import asyncio, sys, time
from claude_tui.engine.events import Done, Started, Submitted, TextDelta, Timings, Usage
from claude_tui.engine.job import Correlation, Job
from claude_tui.store import HistoryRecorder, HistoryStore

async def main():
    store = HistoryStore.open(sys.argv[1])
    recorder = HistoryRecorder(store)  # batched, as every front end gets it
    conv = store.create_conversation("crash test", "claude-sonnet-4-6")
    store.add_user_message(conv, "tell me a long story")   # committed before the request is "sent"
    msg = store.start_assistant_message(conv)
    job = Job.from_prompt("tell me a long story", model="m", id="story", correlation=Correlation(conversation_id=conv, message_id=msg))
    t = time.monotonic()
    recorder.observe(Submitted(job.id, t, job))
    recorder.observe(Started(job.id, t, 1))
    print(f"ready {conv} {msg}", flush=True)
    i = 0
    while True:
        t = time.monotonic()
        recorder.observe(TextDelta(job.id, t, f"w{i:05d} "))
        recorder.observe(Done(job_id=f"h{i}", at=t, text="x", thinking="", usage=Usage(1, 1), stop_reason="end_turn",
                              model="m", request_id=None, attempts=1, timings=Timings(t, t, t, t)))
        i += 1
        print(f"{time.time():.6f} {i}", flush=True)   # wall clock, deltas (and finished jobs) so far
        await asyncio.sleep(0.01)

asyncio.run(main())
"""


def test_kill_9_with_batched_writes_keeps_the_prompt_and_all_but_the_last_moments(tmp_path):
    """The recorder commits every 0.1 s: a kill -9 loses at most that window of text and rows, never a prompt."""
    db = tmp_path / "h.db"
    conv_id, msg_id, progress, killed_at = stream_then_kill_9(BATCHED_CHILD, db)
    with HistoryStore.open(db) as store:
        conv = store.get_conversation(conv_id)
        assert [m.role for m in conv.messages] == ["user", "assistant"]
        assert conv.messages[0].text == "tell me a long story"
        reply = store.get_message(msg_id)
        assert reply.status == "interrupted"
        expected = "".join(f"w{i:05d} " for i in range(int(progress[-1][1])))
        assert reply.text and expected.startswith(reply.text)
        # everything up to one second before the kill is saved (the promise is ~0.1 s; the margin is for a busy CI)
        due = int(max(n for t, n in progress if t <= killed_at - 1.0))
        assert len(reply.text) >= due * 7, (len(reply.text), due)
        rows = store.attempts()
        assert len(rows) >= due and {r.job_id for r in rows} >= {f"h{i}" for i in range(due)}
        assert store.integrity_check() == "ok"
