"""A process that joins a Redis budget, then holds its event loop (as a slow SDK import under load does).

Usage: python blocked_peer.py REDIS_URL; prints one JSON line (the peers key and its member), then
blocks the loop in a synchronous stdin read until the test writes a line.
"""

from __future__ import annotations

import asyncio
import json
import sys

from claude_tui.engine.budget_redis import open_redis_store


async def main(url: str) -> None:
    store = await open_redis_store(url, "test-key")
    print(json.dumps({"key": store._peers_key, "member": store._member, "mode": store.mode}), flush=True)
    sys.stdin.readline()  # blocks the event loop itself: no task of this loop runs meanwhile
    await store.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
