"""`run --distribute` and `worker`: one job over several worker processes, with kill -9 mid-run.

A CI-sized version of "2,000 prompts, 4 workers, kill -9 one": 60 prompts, worker processes of
`python -m claude_tui.cli worker`, a real redis-server, the simulator. What a user would notice:
every prompt ends with exactly one succeeded line, a re-run re-attaches instead of enqueuing
again, a killed worker's prompts are finished by the others, an always-failing prompt is reported
as failed (dead letter) with its reason, and the API key is nowhere in Redis.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import redis

from claude_tui.distributed.layout import GROUP, JOBS_KEY, Keys

from .conftest import HANG, SECRET, wait_until

pytestmark = pytest.mark.timeout(600)

N = 60


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a line being written right now
    return out


def _job(r: redis.Redis) -> Keys:
    jobs = wait_until(lambda: r.zrange(JOBS_KEY, 0, -1), "the job in the registry")
    return Keys(jobs[0])


def _pending_of(r: redis.Redis, keys: Keys, consumer: str) -> list[str]:
    rows = r.xpending_range(keys.prompts, GROUP, "-", "+", 1000, consumername=consumer)
    return [row["message_id"] for row in rows]


def _assert_key_nowhere(r: redis.Redis) -> None:
    """Scan every key and every value: the API key (or any part of it) is never in Redis."""
    needle = SECRET
    part = SECRET[-12:]
    seen = 0
    for key in r.scan_iter(count=1000):
        seen += 1
        assert needle not in key and part not in key
        kind = r.type(key)
        if kind == "hash":
            blobs = [b for pair in r.hgetall(key).items() for b in pair]
        elif kind == "stream":
            blobs = [b for _, fields in r.xrange(key) for pair in fields.items() for b in pair]
        elif kind == "zset":
            blobs = [m for m, _ in r.zrange(key, 0, -1, withscores=True)]
        elif kind == "string":
            blobs = [r.get(key) or ""]
        else:
            blobs = [repr(r.dump(key))]
        for blob in blobs:
            assert needle not in blob and part not in blob, f"API key found in {key!r}"
    assert seen >= 6  # the job's keys and the budget's were there to scan


def test_kill_a_worker_and_the_submitter_mid_run_every_prompt_once(redis_server, cli, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"question number {i}\n" for i in range(N)))
    out = tmp_path / "results.jsonl"
    r = redis.Redis.from_url(redis_server.url, decode_responses=True)
    run = ("run", str(prompts), "--redis", redis_server.url, "--distribute", "--out", str(out), "--max-tokens", "64")
    worker = ("worker", "--redis", redis_server.url, "--concurrency", "3", "--claim-idle", "2")

    submitter = cli(*run, log="submit1")
    keys = _job(r)
    wait_until(lambda: r.xlen(keys.prompts) == N, "all prompts enqueued")

    # One worker alone; kill -9 it while it holds entries and some results are in.
    w1 = cli(*worker, "--name", "w1", log="w1")
    wait_until(lambda: r.hlen(keys.results) >= 5 and _pending_of(r, keys, "w1"), "w1 mid-run")
    w1.kill()
    w1.wait(HANG)
    held = _pending_of(r, keys, "w1")  # final: a dead worker acknowledges nothing more
    assert held, "w1 held entries when it was killed"

    # The submitter too (no worker is running, so it is certainly mid-run).
    wait_until(lambda: len(_lines(out)) >= 3, "the submitter collecting")
    submitter.kill()
    submitter.wait(HANG)
    assert r.xlen(keys.prompts) == N

    # Two other workers, the submitter again (re-attach), and w1 restarted later.
    workers = [cli(*worker, "--name", "w2", log="w2"), cli(*worker, "--name", "w3", log="w3")]
    again = cli(*run, log="submit2")
    wait_until(lambda: r.hlen(keys.results) >= N // 2, "half the results")
    workers.append(cli(*worker, log="w1b"))  # w1 started again later, as a new consumer
    assert again.wait(HANG) == 0, again.log.read_text()
    text = again.log.read_text()
    assert "re-attached" in text and f"{N} already there, 0 added" in text

    lines = _lines(out)
    ids = [line["id"] for line in lines]
    assert len(ids) == N and len(set(ids)) == N  # 0 duplicates in --out
    assert {line["status"] for line in lines} == {"succeeded"}
    assert r.xlen(keys.prompts) == N  # never enqueued twice
    assert r.hlen(keys.results) == N and r.xlen(keys.dead) == 0
    by_entry = {f"0-{int(line['id'].split('-')[1])}": line for line in lines}  # line-K is entry 0-K
    for entry in held:
        assert by_entry[entry]["worker"] != "w1", "a killed worker's entry was finished by another worker"
    assert {line["worker"] for line in lines} - {"w1"}, "the others did the rest"

    # A third run after the end re-attaches, sends nothing, and keeps one line per id.
    third = cli(*run, log="submit3")
    assert third.wait(HANG) == 0
    assert len({line["id"] for line in _lines(out)}) == len(_lines(out)) == N

    # Ctrl-C: each worker stops cleanly, with its own final line.
    for proc in workers:
        wait_until(lambda: "claim after" in proc.log.read_text(), "the worker's start line (its handlers are set)")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(HANG) == 0
        assert "in flight at exit" in proc.log.read_text()
    _assert_key_nowhere(r)


def test_an_always_failing_prompt_is_dead_lettered_with_its_reason(redis_server, cli, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    good = [json.dumps({"id": f"ok-{i}", "prompt": f"fine {i}"}) for i in range(4)]
    bad = json.dumps({"id": "bad", "prompt": "no such model", "model": "claude-no-such-model-9"})
    prompts.write_text("\n".join(good[:2] + [bad] + good[2:]) + "\n")
    out = tmp_path / "results.jsonl"
    r = redis.Redis.from_url(redis_server.url, decode_responses=True)
    worker = cli("worker", "--redis", redis_server.url, "--concurrency", "2", "--claim-idle", "0.5",
                 "--max-deliveries", "2", "--name", "wd", log="wd")
    submitter = cli("run", str(prompts), "--redis", redis_server.url, "--distribute", "--out", str(out), log="submit")
    assert submitter.wait(HANG) == 1  # a failed prompt: exit 1, as a live run
    lines = {line["id"]: line for line in _lines(out)}
    assert sorted(lines) == ["bad", "ok-0", "ok-1", "ok-2", "ok-3"]
    assert [lines[f"ok-{i}"]["status"] for i in range(4)] == ["succeeded"] * 4
    assert lines["bad"]["status"] == "failed" and lines["bad"]["error"]["kind"] == "dead_letter"
    reason = lines["bad"]["error"]["message"]
    assert "delivered 3 times" in reason and "not_found" in reason and "claude-no-such-model-9" in reason
    assert "dead letter bad:" in submitter.log.read_text()
    dead = r.xrange(Keys(_finished_job(r)).dead)
    assert len(dead) == 1 and dead[0][1]["id"] == "bad" and dead[0][1]["deliveries"] == "3"
    wait_until(lambda: "claim after" in worker.log.read_text(), "the worker's start line")
    worker.send_signal(signal.SIGINT)
    assert worker.wait(HANG) == 0
    _assert_key_nowhere(r)


def _finished_job(r: redis.Redis) -> str:
    metas = [k for k in r.scan_iter(match="{claude-tui:job:*}:meta")]
    assert len(metas) == 1
    return metas[0].split("claude-tui:job:", 1)[1].split("}", 1)[0]


def test_prompts_already_succeeded_in_out_are_not_sent_again(redis_server, cli, sim, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"question number {i}\n" for i in range(20)))
    out = tmp_path / "results.jsonl"
    earlier = [{"id": f"line-{k}", "status": "succeeded", "text": f"earlier reply {k}", "usage": None, "attempts": 1,
                "error": None, "model": "claude-sonnet-4-6"} for k in range(1, 8)]  # e.g. from a live run
    out.write_text("".join(json.dumps(line) + "\n" for line in earlier))
    before = sim.sim.stats.requests_total
    worker = cli("worker", "--redis", redis_server.url, "--concurrency", "4", "--name", "wk", log="wk")
    submitter = cli("run", str(prompts), "--redis", redis_server.url, "--distribute", "--out", str(out), log="submit")
    assert submitter.wait(HANG) == 0, submitter.log.read_text()
    lines = {line["id"]: line for line in _lines(out)}
    assert len(lines) == len(_lines(out)) == 20 and {line["status"] for line in lines.values()} == {"succeeded"}
    assert [lines[f"line-{k}"]["text"] for k in range(1, 8)] == [f"earlier reply {k}" for k in range(1, 8)]
    assert sim.sim.stats.requests_total - before == 13  # only the 13 not done before
    wait_until(lambda: "claim after" in worker.log.read_text(), "the worker's start line")
    worker.send_signal(signal.SIGINT)
    assert worker.wait(HANG) == 0
    assert "13 ok" in worker.log.read_text()


def test_a_worker_outlives_a_redis_restart(redis_server, cli, tmp_path: Path) -> None:
    """Redis goes away and comes back (empty: no persistence): the worker says so, stays up, and
    serves the next job."""
    worker = cli("worker", "--redis", redis_server.url, "--concurrency", "2", "--name", "wr", log="wr")
    wait_until(lambda: "claim after" in worker.log.read_text(), "the worker's start line")
    redis_server.kill()
    wait_until(lambda: "Redis unreachable" in worker.log.read_text(), "the worker noticing")
    redis_server.start()
    wait_until(lambda: "Redis reachable again" in worker.log.read_text(), "the worker reconnecting")
    prompts = tmp_path / "p.txt"
    prompts.write_text("one\ntwo\nthree\n")
    out = tmp_path / "o.jsonl"
    submitter = cli("run", str(prompts), "--redis", redis_server.url, "--distribute", "--out", str(out), log="submit")
    assert submitter.wait(HANG) == 0, submitter.log.read_text()
    assert [line["status"] for line in _lines(out)] == ["succeeded"] * 3
    worker.send_signal(signal.SIGINT)
    assert worker.wait(HANG) == 0 and worker.poll() == 0
