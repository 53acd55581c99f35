"""Batch spend apart from live spend: the history knows which results were Message Batches items
(billed at 50 %), in which batch, and which batches a run submitted; `history stats` shows both."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Awaitable, Callable

import pytest
from rich.console import Console

from claude_tui.commands import history_cmd
from claude_tui.cli import build_parser
from claude_tui.engine.retry import RetryPolicy
from claude_tui.headless.batch import BatchOptions, run_via_batches
from claude_tui.headless.prompts import PromptSpec
from claude_tui.headless.run import RunOptions, run_batch
from claude_tui.simulator import Simulator
from claude_tui.store import HistoryRecorder, HistoryStore
from claude_tui.store.schema import LATEST, MIGRATIONS

OPTIONS = RunOptions(model="claude-haiku-4-5", max_tokens=200, system=None, concurrency=8,
                     policy=RetryPolicy(base=0.01, cap=0.05), stall_timeout=5.0)


def _stats_text() -> str:
    out, err = io.StringIO(), io.StringIO()
    assert history_cmd.run(build_parser().parse_args(["history", "stats"]), out=out, err=err) == 0
    return out.getvalue()


def test_a_v2_history_gains_the_batch_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    conn = sqlite3.connect(db)
    for statements in MIGRATIONS[:2]:
        for statement in statements:
            conn.execute(statement)
    conn.execute("INSERT INTO attempts (job_id, attempt, status, cost, started_at) VALUES ('old', 1, 'ok', 0.5, 1000)")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with HistoryStore.open(db) as s:
        assert s.schema_version == LATEST
        [live] = s.spend_by_mode()
        assert (live.mode, live.requests, live.cost) == ("live", 1, 0.5)  # old rows are live spend


def test_a_batch_item_is_recorded_once(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "h.db") as s:
        s.record_batch("msgbatch_1", results_file="o.jsonl", requests=2, submitted_at=1000.0)
        s.record_batch("msgbatch_1", results_file="o.jsonl", requests=2, submitted_at=1000.0)  # a resume
        assert s.record_batch_item("msgbatch_1", "p1", status="ok", model="m", cost=0.25, output_tokens=7)
        assert not s.record_batch_item("msgbatch_1", "p1", status="ok", model="m", cost=0.25, output_tokens=7)
        s.batch_collected("msgbatch_1", at=2000.0)
        [batch] = s.batches(results_file="o.jsonl")
        assert (batch.id, batch.requests, batch.collected_at) == ("msgbatch_1", 2, 2000.0)
        [spend] = s.spend_by_mode()
        assert (spend.mode, spend.requests, spend.cost, spend.output_tokens) == ("batch", 1, 0.25, 7)


async def test_a_batch_run_and_a_live_run_show_apart_in_history_stats(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path, xdg) -> None:
    sim = await make_sim(batch_seconds=0.2)
    specs = [PromptSpec(id=f"p{i}", prompt=f"question number {i}") for i in range(20)]
    console = Console(file=io.StringIO(), width=120)
    out = tmp_path / "batch.jsonl"
    outcome = await run_via_batches(specs, OPTIONS, BatchOptions(poll_first=0.1, poll_cap=0.3), api_key="k",
                                    base_url=sim.base_url, out_path=out, console=console)
    assert outcome.exit_code == 0
    # The same command again (a resume after the end) records nothing twice.
    await run_via_batches(specs, OPTIONS, BatchOptions(poll_first=0.1, poll_cap=0.3), api_key="k",
                          base_url=sim.base_url, out_path=out, console=console)
    with HistoryStore.open() as store:
        recorder = HistoryRecorder(store, prices=OPTIONS.prices, stream_messages=False)
        await run_batch(specs, OPTIONS, api_key="k", base_url=sim.base_url, out_path=tmp_path / "live.jsonl",
                        console=console, listeners=[recorder.observe])
        recorder.close()  # commits the last batch of rows, as Services.close() does
        [batch] = store.batches()
        assert batch.id == next(iter(sim.state.batches.batches)) and batch.requests == 20
        assert batch.results_file == str(out) and batch.collected_at is not None
        spend = {s.mode: s for s in store.spend_by_mode()}
        assert spend["batch"].requests == spend["live"].requests == 20
        assert spend["batch"].cost == pytest.approx(spend["live"].cost / 2, abs=20e-6)  # lines round to 6 places
    text = _stats_text()
    assert "live: 20 requests" in text and "batch (Message Batches, 50 % price): 20 requests" in text
