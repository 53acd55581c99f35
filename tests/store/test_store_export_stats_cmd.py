from __future__ import annotations

import argparse
import datetime as dt
import io
import json

import pytest

from claude_tui import paths
from claude_tui.cli import build_parser
from claude_tui.store import HistoryStore, percentile
from claude_tui.store import export as exporter


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def call(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    ns = parse(*argv)
    out, err = io.StringIO(), io.StringIO()
    code = ns.func(ns, out=out, err=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def filled(xdg):
    with HistoryStore.open() as s:
        c = s.create_conversation("Rust vs Go", "claude-sonnet-4-6", "You are terse.")
        s.add_user_message(c, "Which is faster?")
        m = s.start_assistant_message(c)
        s.finish_assistant_message(m, "It depends.", "weighing", "end_turn", {"input_tokens": 7, "output_tokens": 3}, 0.0001)
        s.add_user_message(c, "Be specific")
        m2 = s.start_assistant_message(c)
        s.finish_assistant_message(m2, "Rust, usua", status="interrupted")
        d = s.create_conversation("Other", "claude-haiku-4-5")
        s.add_user_message(d, "ping")
    return c, d


def test_markdown_export(filled):
    c, _ = filled
    with HistoryStore.open() as s:
        md = exporter.to_markdown(s.get_conversation(c))
    assert md.startswith("# Rust vs Go\n")
    assert "`claude-sonnet-4-6`" in md and "## System\n\nYou are terse." in md
    assert md.count("## User") == 2 and md.count("## Assistant") == 2
    assert md.index("Which is faster?") < md.index("It depends.") < md.index("Be specific") < md.index("Rust, usua")
    assert "interrupted" in md and "<summary>Thinking</summary>" in md


def test_json_export_roundtrip(filled):
    c, _ = filled
    with HistoryStore.open() as s:
        data = json.loads(exporter.to_json(s.get_conversation(c)))
    assert data["title"] == "Rust vs Go" and data["system"] == "You are terse." and data["format"] == "claude-tui.conversation/1"
    assert [m["text"] for m in data["messages"]] == ["Which is faster?", "It depends.", "Be specific", "Rust, usua"]
    assert data["messages"][1]["usage"] == {"input_tokens": 7, "output_tokens": 3}
    assert data["messages"][3]["status"] == "interrupted"
    assert "T" in data["created"]
    with pytest.raises(ValueError):
        exporter.export(None, "pdf")  # type: ignore[arg-type]


def test_history_commands(filled, tmp_path):
    c, d = filled
    code, out, _ = call("history", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["ID", "UPDATED"]
    assert lines[1].split()[0] == str(d) and lines[2].split()[0] == str(c)  # newest first
    code, out, _ = call("history", "list", "--search", "faster")
    assert code == 0 and "Rust vs Go" in out and "Other" not in out

    code, out, _ = call("history", "show", str(c))
    assert code == 0 and out.startswith("# Rust vs Go")
    code, _, err = call("history", "show", "999")
    assert code == 1 and "no conversation 999" in err

    target = tmp_path / "out.json"
    code, _, err = call("history", "export", str(c), "--format", "json", "--out", str(target))
    assert code == 0 and json.loads(target.read_text())["id"] == c
    code, out, _ = call("history", "export", str(c))
    assert code == 0 and out.startswith("# Rust vs Go")

    code, out, _ = call("history", "rename", str(c), "Languages")
    assert code == 0
    code, out, _ = call("history", "list")
    assert "Languages" in out
    assert call("history", "rename", "999", "x")[0] == 1

    code, _, err = call("history", "delete", str(d))  # not a tty, no --yes: refused
    assert code == 1 and "--yes" in err
    code, out, _ = call("history", "delete", str(d), "--yes")
    assert code == 0
    with HistoryStore.open() as s:
        assert s.get_conversation(d) is None and s.get_conversation(c) is not None


def test_history_commands_without_a_database_create_nothing(xdg):
    assert call("history", "list") == (0, "no history yet\n", "")
    assert call("history", "stats")[0] == 0
    assert call("history", "show", "1")[0] == 1
    assert not paths.history_db().exists()


def test_percentile_matches_linear_interpolation():
    values = list(range(1, 101))
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None


def test_stats_per_day_and_model(xdg):
    day1 = dt.datetime(2026, 3, 1, 12, 0).timestamp()
    day2 = dt.datetime(2026, 3, 2, 9, 30).timestamp()
    with HistoryStore.open() as s:
        for i in range(1, 101):  # latencies 10..1000 ms
            s.record_attempt(f"j{i}", attempt=1, status="ok", model="claude-sonnet-4-6", started_at=day1 + i, latency_ms=i * 10.0,
                             ttft_ms=float(i), input_tokens=10, output_tokens=20, cost=0.01)
        s.record_attempt("j1", attempt=2, status="error", model="claude-sonnet-4-6", started_at=day1, latency_ms=99999.0, cost=0.001)
        s.record_attempt("h1", attempt=1, status="ok", model="claude-haiku-4-5", started_at=day2, latency_ms=250.0,
                         input_tokens=5, output_tokens=6, cache_read_tokens=100, cost=0.002)
        rows = s.stats()
        assert [(r.day, r.model) for r in rows] == [("2026-03-01", "claude-sonnet-4-6"), ("2026-03-02", "claude-haiku-4-5")]
        sonnet, haiku = rows
        assert (sonnet.requests, sonnet.jobs, sonnet.errors) == (101, 100, 1)
        assert (sonnet.input_tokens, sonnet.output_tokens) == (1000, 2000)
        assert sonnet.cost == pytest.approx(1.001)
        assert sonnet.latency_ms.p50 == pytest.approx(505.0)  # the failed attempt's 99999 ms is left out
        assert sonnet.latency_ms.p95 == pytest.approx(950.5)
        assert sonnet.latency_ms.p99 == pytest.approx(990.1)
        assert sonnet.latency_ms.count == 100 and sonnet.ttft_ms.p50 == pytest.approx(50.5)
        assert (haiku.requests, haiku.cache_read_tokens, haiku.latency_ms.p99) == (1, 100, 250.0)
        assert [r.model for r in s.stats(since=day2 - 60)] == ["claude-haiku-4-5"]
    code, out, _ = call("history", "stats")
    assert code == 0 and "2026-03-01" in out and "505" in out and "total: 102 requests" in out
    code, out, _ = call("history", "stats", "--json")
    assert json.loads(out)[0]["latency_ms"]["p95"] == pytest.approx(950.5)
