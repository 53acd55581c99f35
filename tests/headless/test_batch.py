"""`run --mode batch` / `--dry-run` against the simulator's Message Batches, kill -9 and resume included."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import stat
import sys
from pathlib import Path
from typing import Awaitable, Callable

from rich.console import Console

from claude_tui.engine.retry import RetryPolicy
from claude_tui.headless.batch import BatchOptions, SideFile, chunks, custom_id_for, run_via_batches
from claude_tui.headless.prompts import PromptSpec
from claude_tui.headless.run import RunOptions, run_batch
from claude_tui.simulator import Simulator

OPTIONS = RunOptions(model="claude-haiku-4-5", max_tokens=200, system=None, concurrency=8,
                     policy=RetryPolicy(base=0.01, cap=0.05), stall_timeout=5.0)
FASTPOLL = BatchOptions(poll_first=0.1, poll_cap=0.5)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def specs(n: int) -> list[PromptSpec]:
    return [PromptSpec(id=f"p{i}", prompt=f"question number {i} about queues") for i in range(n)]


async def test_fifty_prompts_in_a_batch_cost_half_of_live(make_sim: Callable[..., Awaitable[Simulator]],
                                                          tmp_path: Path) -> None:
    sim = await make_sim(batch_seconds=1)
    console = Console(file=io.StringIO(), width=120)
    out = tmp_path / "batch.jsonl"
    outcome = await run_via_batches(specs(50), OPTIONS, FASTPOLL, api_key="k", base_url=sim.base_url,
                                    out_path=out, console=console)
    assert outcome.exit_code == 0 and outcome.succeeded == 50
    got = lines(out)
    assert sorted(r["id"] for r in got) == sorted(f"p{i}" for i in range(50))
    assert all(r["status"] == "succeeded" and r["text"] and r["mode"] == "batch" for r in got)
    assert len(sim.state.batches.batches) == 1 and sim.stats.requests_total == 0
    side = SideFile(out)
    assert stat.S_IMODE(side.path.stat().st_mode) == 0o600
    assert [e["batch_id"] for e in side.load() if "custom_ids" in e and "batch_id" in e] == list(sim.state.batches.batches)

    live_out = tmp_path / "live.jsonl"
    await run_batch(specs(50), OPTIONS, api_key="k", base_url=sim.base_url, out_path=live_out,
                    console=Console(file=io.StringIO(), width=120))
    live = sum(r["cost_usd"] for r in lines(live_out))
    batch = sum(r["cost_usd"] for r in got)
    assert live > 0 and abs(batch - live / 2) <= 50 * 1e-6  # each line is rounded to 6 decimals
    text = console.file.getvalue()
    assert "cost (batch, 50 %)" in text and f"${batch:,.4f}" in text and "since submit" in text

    # the same command again: nothing to submit, nothing written twice
    again = await run_via_batches(specs(50), OPTIONS, FASTPOLL, api_key="k", base_url=sim.base_url,
                                  out_path=out, console=Console(file=io.StringIO(), width=120))
    assert again.exit_code == 0 and again.skipped == 50
    assert len(sim.state.batches.batches) == 1 and len(lines(out)) == 50


async def test_errored_and_expired_items_are_rerun_live(make_sim: Callable[..., Awaitable[Simulator]],
                                                        tmp_path: Path) -> None:
    sim = await make_sim(batch_seconds=0.2, faults={"batch_errored": 0.25, "batch_expired": 0.25})
    out = tmp_path / "o.jsonl"
    outcome = await run_via_batches(specs(40), OPTIONS, FASTPOLL, api_key="k", base_url=sim.base_url,
                                    out_path=out, console=Console(file=io.StringIO(), width=120))
    assert outcome.exit_code == 0
    got = lines(out)
    assert sorted(r["id"] for r in got) == sorted(f"p{i}" for i in range(40))
    modes = [r.get("mode") for r in got]
    assert modes.count("batch") < 40 and 0 < sim.stats.requests_total == 40 - modes.count("batch")


def test_custom_ids_and_chunks() -> None:
    assert custom_id_for("line-3") == "line-3"
    odd = custom_id_for("a/b c")
    assert odd == custom_id_for("a/b c") and len(odd) <= 64 and odd != custom_id_for("a/b d")
    items = [(f"c{i}", {"x": "y" * 100}) for i in range(10)]
    assert [len(c) for c in chunks(items, 4, 10**9)] == [4, 4, 2]
    assert all(len(c) <= 3 for c in chunks(items, 100, 450))


def _env(sim: Simulator, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_TUI_"))}
    env.update({f"XDG_{n}_HOME": str(tmp / n.lower()) for n in ("CONFIG", "DATA", "STATE", "CACHE")})
    env.update(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=sim.base_url, PYTHONPATH=os.getcwd())
    return env


async def _cli(sim: Simulator, tmp: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "claude_tui.cli", "run", *args, env=_env(sim, tmp), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_kill_9_while_polling_then_rerun_resumes_the_same_batch(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    sim = await make_sim(batch_seconds=3)
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"prompt {i}\n" for i in range(50)))
    out = tmp_path / "o.jsonl"
    side = SideFile(out).path
    args = (str(prompts), "--out", str(out), "--mode", "batch", "--model", "claude-haiku-4-5")
    proc = await _cli(sim, tmp_path, *args)
    async with asyncio.timeout(60):  # a hang bound: wait for the stored batch id, not for a time
        while not (side.exists() and '"batch_id"' in side.read_text()):
            assert proc.returncode is None, (await proc.stderr.read()).decode()
            await asyncio.sleep(0.02)
    proc.kill()  # SIGKILL: no cleanup at all
    await proc.wait()
    assert sim.state.batches.batches and (not out.exists() or not out.read_text())  # killed before any result

    proc = await _cli(sim, tmp_path, *args)
    async with asyncio.timeout(120):
        _stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert "resuming 1 stored batch" in stderr.decode()
    assert len(sim.state.batches.batches) == 1  # the simulator's batch list shows one batch
    got = lines(out)
    assert len(got) == 50 and len({r["id"] for r in got}) == 50 and all(r["status"] == "succeeded" for r in got)


async def test_ctrl_c_without_a_terminal_leaves_the_batch_running(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    sim = await make_sim(batch_seconds=600)
    prompts = tmp_path / "p.txt"
    prompts.write_text("one\ntwo\n")
    out = tmp_path / "o.jsonl"
    proc = await _cli(sim, tmp_path, str(prompts), "--out", str(out), "--mode", "batch")
    async with asyncio.timeout(60):
        while not (SideFile(out).path.exists() and '"batch_id"' in SideFile(out).path.read_text()):
            assert proc.returncode is None
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = await proc.communicate()
    assert proc.returncode == 130
    assert "leaving 1 batch(es) running on the server" in stderr.decode()
    (batch,) = sim.state.batches.batches.values()
    assert batch.processing_status == "in_progress"


async def test_dry_run_of_ten_thousand_prompts(make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    sim = await make_sim()
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"prompt number {i} asks about something\n" for i in range(10_000)))
    proc = await _cli(sim, tmp_path, str(prompts), "--dry-run", "--model", "claude-sonnet-4-6", "--max-tokens", "500",
                      "--limits", "50,30000,8000", "--deadline", "3h")
    async with asyncio.timeout(60):
        _stdout, stderr = await proc.communicate()
    text = stderr.decode()
    assert proc.returncode == 0, text
    assert sim.stats.requests_total == 0  # not a single message sent
    assert "prompts               10,000" in text and "count_tokens on 50 of 10,000, scaled" in text
    assert "5,000,000  (Σ max_tokens)" in text
    # 10,000 × 500 worst-case output at $15/M = $75 live, $37.50 batch; 10,000 / 50 RPM = 200 min
    assert "cost batch            up to $3" in text and "(50 %)" in text
    assert "625.0 min (bound by output tokens per minute)" in text  # 5,000,000 / 8,000 OTPM
    assert "--mode auto would use batch" in text


async def test_a_batch_accepted_but_never_recorded_is_adopted_not_resubmitted(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    """Killed between the server accepting a batch and its id reaching disk: only the intent is stored."""
    import time

    import anthropic

    sim = await make_sim(batch_seconds=0.3)
    out = tmp_path / "o.jsonl"
    todo = specs(5)
    SideFile(out).append({"intent": "x-1", "custom_ids": [custom_id_for(s.id) for s in todo], "at": time.time()})
    async with anthropic.AsyncAnthropic(api_key="k", base_url=sim.base_url) as client:
        await client.messages.batches.create(requests=[
            {"custom_id": custom_id_for(s.id), "params": {"model": OPTIONS.model, "max_tokens": 200,
                                                          "messages": [{"role": "user", "content": s.prompt}]}}
            for s in todo])
    outcome = await run_via_batches(todo, OPTIONS, FASTPOLL, api_key="k", base_url=sim.base_url, out_path=out,
                                    console=Console(file=io.StringIO(), width=120))
    assert outcome.exit_code == 0 and len(sim.state.batches.batches) == 1
    assert sorted(r["id"] for r in lines(out)) == [s.id for s in todo]


async def test_rerun_as_a_new_batch(make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    sim = await make_sim(batch_seconds=0.1, faults={"batch_expired": 0.3})
    out = tmp_path / "o.jsonl"
    outcome = await run_via_batches(specs(30), OPTIONS, BatchOptions(rerun="batch", poll_first=0.05, poll_cap=0.2),
                                    api_key="k", base_url=sim.base_url, out_path=out,
                                    console=Console(file=io.StringIO(), width=120))
    assert outcome.exit_code == 0 and len(sim.state.batches.batches) >= 2
    got = lines(out)
    assert sorted(r["id"] for r in got) == sorted(s.id for s in specs(30)) and len(got) == 30


def test_auto_says_why() -> None:
    from claude_tui.engine.pricing import PriceTable
    from claude_tui.headless.plan import Limits, choose_mode, make_plan

    big = make_plan(specs(5000), model="claude-sonnet-4-6", max_tokens=100, system=None, prices=PriceTable(),
                    limits=Limits(50, 30_000, 8_000), ratio=None)
    assert big.binding == "requests" and big.live_minutes == 100  # 5,000 / 50 RPM
    assert big.batch_cost == big.live_cost / 2
    assert choose_mode(big, None)[0] == "live" and "no --deadline" in choose_mode(big, None)[1]
    assert choose_mode(big, 0.5)[0] == "live"
    assert choose_mode(big, 2)[0] == "batch"
    small = make_plan(specs(3), model="claude-sonnet-4-6", max_tokens=100, system=None, prices=PriceTable(),
                      limits=Limits(50, 30_000, 8_000), ratio=None)
    assert choose_mode(small, 24)[0] == "live" and "small job" in choose_mode(small, 24)[1]


async def test_a_stored_batch_the_server_no_longer_has_is_resubmitted(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    """E.g. a batch from an embedded simulator that died with its process: nothing is lost."""
    sim = await make_sim(batch_seconds=0.2)
    out = tmp_path / "o.jsonl"
    todo = specs(4)
    SideFile(out).append({"batch_id": "msgbatch_gone", "custom_ids": [custom_id_for(s.id) for s in todo],
                          "submitted_at": 0})
    console = Console(file=io.StringIO(), width=120)
    outcome = await run_via_batches(todo, OPTIONS, FASTPOLL, api_key="k", base_url=sim.base_url, out_path=out,
                                    console=console)
    assert outcome.exit_code == 0 and sorted(r["id"] for r in lines(out)) == [s.id for s in todo]
    assert "msgbatch_gone no longer exists" in console.file.getvalue()


async def test_ctrl_c_at_a_terminal_asks_and_cancels_on_the_server(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    import pty

    sim = await make_sim(batch_seconds=600)
    prompts = tmp_path / "p.txt"
    prompts.write_text("one\ntwo\n")
    out = tmp_path / "o.jsonl"
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "claude_tui.cli", "run", str(prompts), "--out", str(out), "--mode", "batch",
        env=_env(sim, tmp_path), stdin=slave, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    os.close(slave)
    try:
        async with asyncio.timeout(60):
            while not (SideFile(out).path.exists() and '"batch_id"' in SideFile(out).path.read_text()):
                assert proc.returncode is None
                await asyncio.sleep(0.02)
            proc.send_signal(signal.SIGINT)
            asked = await proc.stdout.readuntil(b"[y/N] ")
            assert b"Cancel 1 batch(es) on the server?" in asked
            os.write(master, b"y\n")
            _stdout, stderr = await proc.communicate()
    finally:
        os.close(master)
    assert proc.returncode == 130 and "cancel requested" in stderr.decode()
    (batch,) = sim.state.batches.batches.values()
    assert batch.processing_status in ("canceling", "ended") and batch.cancel_initiated_at is not None


async def test_a_job_over_the_limit_is_split_into_several_batches(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    sim = await make_sim(batch_seconds=0.2)
    out = tmp_path / "o.jsonl"
    outcome = await run_via_batches(specs(50), OPTIONS, BatchOptions(poll_first=0.05, poll_cap=0.2, max_requests=20),
                                    api_key="k", base_url=sim.base_url, out_path=out,
                                    console=Console(file=io.StringIO(), width=120))
    assert outcome.exit_code == 0 and len(sim.state.batches.batches) == 3
    assert sorted(r["id"] for r in lines(out)) == sorted(s.id for s in specs(50))
    assert sorted(b.counts()["succeeded"] for b in sim.state.batches.batches.values()) == [10, 20, 20]


async def test_killed_while_writing_results_resumes_without_duplicates(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    sim = await make_sim(batch_seconds=0.2)
    out = tmp_path / "o.jsonl"
    await run_via_batches(specs(30), OPTIONS, FASTPOLL, api_key="k", base_url=sim.base_url, out_path=out,
                          console=Console(file=io.StringIO(), width=120))
    # as if killed mid-collect: 12 lines written (the last one torn), the "collected" mark never written
    kept = out.read_text().splitlines()[:12]
    out.write_text("\n".join(kept) + "\n" + '{"id": "p2')
    side = SideFile(out)
    side.path.write_text("".join(json.dumps(e) + "\n" for e in side.load() if "collected" not in e))
    outcome = await run_via_batches(specs(30), OPTIONS, FASTPOLL, api_key="k", base_url=sim.base_url, out_path=out,
                                    console=Console(file=io.StringIO(), width=120))
    assert outcome.exit_code == 0 and len(sim.state.batches.batches) == 1
    good = []
    for line in out.read_text().splitlines():
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    assert sorted(r["id"] for r in good) == sorted(s.id for s in specs(30)) and len(good) == 30


async def test_auto_without_a_deadline_runs_live_and_says_so(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    sim = await make_sim()
    prompts = tmp_path / "p.txt"
    prompts.write_text("one\ntwo\nthree\n")
    out = tmp_path / "o.jsonl"
    proc = await _cli(sim, tmp_path, str(prompts), "--out", str(out), "--mode", "auto")
    async with asyncio.timeout(60):
        _stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert "--mode auto chose live: no --deadline given" in stderr.decode()
    assert sim.stats.requests_total == 3 and not sim.state.batches.batches
    assert len(lines(out)) == 3


async def test_an_intent_the_server_never_saw_is_abandoned_once(
        make_sim: Callable[..., Awaitable[Simulator]], tmp_path: Path) -> None:
    import time

    sim = await make_sim(batch_seconds=0.2)
    out = tmp_path / "o.jsonl"
    todo = specs(3)
    SideFile(out).append({"intent": "lost-1", "custom_ids": [custom_id_for(s.id) for s in todo], "at": time.time()})
    for _ in range(2):  # the second run must not adopt the first run's batch for the abandoned intent
        outcome = await run_via_batches(todo, OPTIONS, FASTPOLL, api_key="k", base_url=sim.base_url, out_path=out,
                                        console=Console(file=io.StringIO(), width=120))
        assert outcome.exit_code == 0
    assert len(sim.state.batches.batches) == 1 and len(lines(out)) == 3
    assert [e for e in SideFile(out).load() if "abandoned" in e] == [{"abandoned": "lost-1"}]
