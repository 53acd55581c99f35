"""A separate process running prompts through a pool paced by a Redis-shared budget.

Usage: python worker.py BASE_URL REDIS_URL N CONCURRENCY; prints one JSON line
(done, failed, mode) on stdout. The tests start two of these against one simulator.
"""

from __future__ import annotations

import asyncio
import json
import sys

from claude_tui.engine.budget import Budget
from claude_tui.engine.budget_redis import open_redis_store
from claude_tui.engine.events import Done
from claude_tui.engine.job import Job
from claude_tui.engine.pool import RequestPool
from claude_tui.engine.retry import RetryPolicy


async def main(base_url: str, redis_url: str, n: int, concurrency: int) -> None:
    store = await open_redis_store(redis_url, "test-key")
    budget = Budget(store, burst_seconds=1.0, slow_start=False)
    pool = RequestPool(api_key="test-key", base_url=base_url, limit=concurrency, budget=budget,
                       policy=RetryPolicy(max_attempts=5, base=0.05, cap=0.2), stall_timeout=10.0)
    print(json.dumps({"ready": True, "peers": store.peers}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # start together
    handles = [pool.submit(Job.from_prompt(f"w{i}", max_tokens=30), stream_events=False) for i in range(n)]
    outcomes = [await h.result() for h in handles]
    snap = budget.snapshot()
    await pool.aclose()
    await budget.aclose()
    done = sum(isinstance(o, Done) for o in outcomes)
    print(json.dumps({"done": done, "failed": n - done, "mode": snap.mode, "peers": snap.peers}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
