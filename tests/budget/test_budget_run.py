"""`claude-tui run` with the budget: the limiter's mode in the summary, `--limiter off`, `--redis`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from claude_tui.config import LimitSettings, load_settings
from claude_tui.engine.retry import RetryPolicy
from claude_tui.headless.prompts import PromptSpec
from claude_tui.headless.run import RunOptions, run_batch

pytestmark = pytest.mark.timeout(90)


def _options(limits: LimitSettings | None) -> RunOptions:
    return RunOptions(model="claude-haiku-4-5", max_tokens=50, system=None, concurrency=4,
                      policy=RetryPolicy(base=0.01, cap=0.05), stall_timeout=5.0, limits=limits)


async def _run(sim, tmp_path: Path, limits: LimitSettings | None) -> tuple[str, list[dict]]:
    buf = io.StringIO()
    out = tmp_path / "out.jsonl"
    specs = [PromptSpec(id=f"p{i}", prompt=f"prompt {i}") for i in range(6)]
    outcome = await run_batch(specs, _options(limits), api_key="test-key", base_url=sim.base_url, out_path=out,
                              console=Console(file=buf, width=200))
    assert outcome.exit_code == 0
    return buf.getvalue(), [json.loads(line) for line in out.read_text().splitlines()]


async def test_summary_names_the_shared_limiter(make_sim, redis_server, tmp_path: Path) -> None:
    sim = await make_sim(rpm=600)
    text, lines = await _run(sim, tmp_path, LimitSettings(redis_url=redis_server.url))
    assert [line["status"] for line in lines] == ["succeeded"] * 6
    assert "limiter: redis (1 process)" in text


async def test_summary_says_when_redis_is_unreachable(make_sim, redis_server, tmp_path: Path) -> None:
    redis_server.kill()
    sim = await make_sim(rpm=600)
    text, lines = await _run(sim, tmp_path, LimitSettings(redis_url=redis_server.url))
    assert [line["status"] for line in lines] == ["succeeded"] * 6
    assert "limiter: local — Redis unreachable" in text


async def test_limiter_off_is_the_reactive_engine(make_sim, tmp_path: Path) -> None:
    sim = await make_sim(rpm=600)
    text, _ = await _run(sim, tmp_path, LimitSettings(limiter="off"))
    assert "limiter: off" in text


def test_settings_from_environment_and_flags(monkeypatch) -> None:
    monkeypatch.setenv("CLAUDE_TUI_REDIS_URL", "redis://127.0.0.1:6390/0")
    settings = load_settings({"limits.limiter": "off"})
    assert settings.limits.redis_url == "redis://127.0.0.1:6390/0" and settings.limits.limiter == "off"
    assert settings.source("limits.redis_url") == "environment (CLAUDE_TUI_REDIS_URL)"


async def test_summary_names_the_binding_limit_and_the_lever(make_sim, tmp_path: Path) -> None:
    # 3,000 OTPM in 10-s buckets (500 tokens), 20-token replies reserving max_tokens 400: only one
    # reservation fits at a time, so output tokens bind while requests stay far from 600 RPM.
    sim = await make_sim(rpm=600, otpm=3000, burst=10.0)
    buf = io.StringIO()
    specs = [PromptSpec(id=f"p{i}", prompt=f"prompt {i}") for i in range(6)]
    options = RunOptions(model="claude-haiku-4-5", max_tokens=400, system=None, concurrency=4,
                         policy=RetryPolicy(base=0.01, cap=0.05), stall_timeout=5.0, limits=LimitSettings(slow_start=False))
    outcome = await run_batch(specs, options, api_key="test-key", base_url=sim.base_url, out_path=tmp_path / "o.jsonl",
                              console=Console(file=buf, width=300))
    assert outcome.exit_code == 0
    text = buf.getvalue()
    assert "output tokens bound this run:" in text, text
    assert "replies average 20 tokens against max_tokens 400 — lowering max_tokens to 50" in text, text
