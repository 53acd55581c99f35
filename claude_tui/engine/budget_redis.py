"""The budget shared through Redis: every process on one URL draws from one budget per (API key, model class).

One Lua script does acquire / settle / observe / hold atomically on one hash per (hashed key, model
class), with the server's clock (``TIME``), so skew between machines cannot inflate the budget; its
keys carry a hash tag, so it works on Redis Cluster. Idle keys expire (``PEXPIRE``). The API key is
hashed (sha256) and never written to Redis.

Redis unreachable, or gone mid-run: fail open to a local share of the budget (each limit ÷ the live
processes last seen through a heartbeat), say so in ``mode``/``reason``, reconnect in the background.
The heartbeat that keeps this process counted runs in a thread of its own, not on the event loop:
a loop held by a slow start (importing the SDK takes seconds under load) or a busy UI must not
let the process drop out of the peer count, or the others' fallback share would be too big.
The API enforces its limits anyway; we never stop working because Redis did (Stripe, Envoy and
token-throttle fail open too).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import uuid
from typing import Any

from .budget import DIMENSIONS, HOLD, Grant, LocalStore, Triple

_log = logging.getLogger("claude_tui.engine.budget")

#: KEYS[1]: the class's hash. ARGV: op, burst s r i o, limits r i o (per minute, 0 = none), amounts r i o, ttl ms.
#: Ops: acquire, settle, observe, hold, and owe (a probe's cost, taken before the limits are known: it
#: comes off the buckets at the next op with limits, as ``_Buckets.owe`` does locally).
#: Returns {wait ms, binding (0 none, 1-3 a dimension, 4 a hold), level r, level i, level o} (levels as strings).
SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op = ARGV[1]
local names = {'r', 'i', 'o'}
local saved = redis.call('HMGET', KEYS[1], 'r', 'i', 'o', 't', 'h', 'dr', 'di', 'do')
if op == 'owe' then
  -- a probe's cost, taken before anyone knew the limits: it comes off the buckets at the next op with limits
  redis.call('HINCRBYFLOAT', KEYS[1], 'dr', ARGV[8])
  redis.call('HINCRBYFLOAT', KEYS[1], 'di', ARGV[9])
  redis.call('HINCRBYFLOAT', KEYS[1], 'do', ARGV[10])
  redis.call('PEXPIRE', KEYS[1], ARGV[11])
  return {0, 0, saved[1] or '', saved[2] or '', saved[3] or ''}
end
local last = tonumber(saved[4]) or now
local hold = tonumber(saved[5]) or 0
local elapsed = math.max(0, now - last) / 1000
local level, cap, limit = {}, {}, {}
for k = 1, 3 do
  limit[k] = tonumber(ARGV[4 + k])
  if limit[k] > 0 then
    cap[k] = limit[k] * tonumber(ARGV[1 + k]) / 60
    local cur = tonumber(saved[k])
    if cur == nil then level[k] = cap[k] else level[k] = math.min(cap[k], cur + elapsed * limit[k] / 60) end
    level[k] = level[k] - (tonumber(saved[5 + k]) or 0)
  end
end
redis.call('HDEL', KEYS[1], 'dr', 'di', 'do')
local wait, binding = 0, 0
if op == 'acquire' then
  if hold > now then
    wait, binding = hold - now, 4
  else
    for k = 1, 3 do
      if level[k] ~= nil then
        local need = math.min(tonumber(ARGV[7 + k]), cap[k])
        if level[k] < need then
          local w = (need - level[k]) * 60000 / limit[k]
          if w > wait then wait, binding = w, k end
        end
      end
    end
    if wait == 0 then
      for k = 1, 3 do if level[k] ~= nil then level[k] = level[k] - tonumber(ARGV[7 + k]) end end
    end
  end
elseif op == 'settle' then
  for k = 1, 3 do if level[k] ~= nil then level[k] = math.min(cap[k], level[k] + tonumber(ARGV[7 + k])) end end
elseif op == 'observe' then
  for k = 1, 3 do
    local remaining = tonumber(ARGV[7 + k])
    if level[k] ~= nil and remaining >= 0 then level[k] = math.min(level[k], remaining) end
  end
elseif op == 'hold' then
  hold = math.max(hold, now + tonumber(ARGV[8]))
end
local out = {math.ceil(wait), binding}
for k = 1, 3 do
  if level[k] ~= nil then
    redis.call('HSET', KEYS[1], names[k], tostring(level[k]))
    out[2 + k] = tostring(level[k])
  else
    redis.call('HDEL', KEYS[1], names[k])
    out[2 + k] = ''
  end
end
redis.call('HSET', KEYS[1], 't', now, 'h', hold)
redis.call('PEXPIRE', KEYS[1], ARGV[11])
return out
"""

#: KEYS[1]: the peers sorted set. ARGV: member, ttl ms. Returns the live processes.
HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
"""

_OPS_TIMEOUT = 0.5  # seconds: a Redis call slower than this counts as Redis gone (the budget must not stall requests)
HEARTBEAT_SECONDS = 2.0
PEER_TTL_SECONDS = 3 * HEARTBEAT_SECONDS


def key_id(api_key: str) -> str:
    """What identifies the API key in Redis: a sha256 digest, never the key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


class RedisStore:
    """A budget store on Redis, failing open to a local share of the budget."""

    def __init__(self, url: str, api_key: str, *, prefix: str = "claude-tui", reconnect_seconds: float = 1.0) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.url = url
        tag = "{" + f"{prefix}:{key_id(api_key)}" + "}"  # one hash slot for every key of this API key
        self._bucket_prefix = f"{tag}:budget:"
        self._peers_key = f"{tag}:peers"
        self._member = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._client = aioredis.from_url(
            url, socket_timeout=_OPS_TIMEOUT, socket_connect_timeout=_OPS_TIMEOUT, retry=Retry(NoBackoff(), 0), decode_responses=True
        )
        self._script = self._client.register_script(SCRIPT)
        self._heartbeat = self._client.register_script(HEARTBEAT)
        self._fallback = LocalStore(mode="local-fallback", reason="Redis unreachable")
        self._levels: dict[str, tuple[float | None, float | None, float | None]] = {}
        self.mode = "redis"
        self.reason = ""
        self.peers = 1
        self.reconnect_seconds = reconnect_seconds
        self._task: asyncio.Task[None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self) -> "RedisStore":
        """Connect and start the heartbeat; an unreachable Redis means local fallback from the start."""
        await self._beat()
        self._task = asyncio.get_running_loop().create_task(self._background(), name="claude-tui budget reconnect")
        self._thread = threading.Thread(target=self._heartbeat_thread, name="claude-tui budget heartbeat", daemon=True)
        self._thread.start()
        return self

    # -- the store API ---------------------------------------------------------------------
    async def acquire(self, cls: str, cost: Triple, limits: Triple, burst: Triple) -> Grant:
        reply = await self._call("acquire", cls, cost, limits, burst)
        if reply is None:
            return await self._fallback.acquire(cls, cost, self._share(limits), burst)
        wait_ms, binding = int(reply[0]), int(reply[1])
        dim = None if binding == 0 else (HOLD if binding == 4 else DIMENSIONS[binding - 1])
        return Grant(wait_ms / 1000, dim, self._levels[cls])

    async def owe(self, cls: str, cost: Triple) -> None:
        if await self._call("owe", cls, cost, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) is None:
            await self._fallback.owe(cls, cost)

    async def settle(self, cls: str, refund: Triple, limits: Triple, burst: Triple) -> None:
        if await self._call("settle", cls, refund, limits, burst) is None:
            await self._fallback.settle(cls, refund, self._share(limits), burst)

    async def observe(self, cls: str, remaining: Triple, limits: Triple, burst: Triple) -> None:
        if await self._call("observe", cls, remaining, limits, burst) is None:
            await self._fallback.observe(cls, remaining, self._share(limits), burst)

    async def hold(self, cls: str, seconds: float, limits: Triple, burst: Triple) -> None:
        if await self._call("hold", cls, (seconds * 1000, 0.0, 0.0), limits, burst) is None:
            await self._fallback.hold(cls, seconds, self._share(limits), burst)

    def levels(self, cls: str) -> tuple[float | None, ...]:
        if self.mode != "redis":
            return self._fallback.levels(cls)
        return self._levels.get(cls, (None, None, None))

    async def aclose(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await asyncio.wait_for(self._client.zrem(self._peers_key, self._member), _OPS_TIMEOUT)
        except Exception:  # noqa: BLE001 - leaving: a gone Redis forgets us by itself (the peer TTL)
            pass
        await self._client.aclose()

    # -- inside ----------------------------------------------------------------------------
    def _share(self, limits: Triple) -> Triple:
        """This process's part of the budget while Redis is gone: limit ÷ the live processes last seen."""
        n = max(1, self.peers)
        return (limits[0] / n, limits[1] / n, limits[2] / n)

    async def _call(self, op: str, cls: str, amounts: Triple, limits: Triple, burst: Triple) -> list[Any] | None:
        if self.mode != "redis":
            return None
        ttl_ms = int(max(60_000, 4 * max(burst) * 1000))  # idle keys vanish after a few bucket-lengths
        args: list[str | float] = [op, *burst, *(round(x, 6) for x in limits), *(round(x, 6) for x in amounts), ttl_ms]
        try:
            reply = await asyncio.wait_for(self._script(keys=[self._bucket_prefix + cls], args=args), _OPS_TIMEOUT * 2)
        except Exception as exc:  # noqa: BLE001 - any Redis failure: fail open, reconnect in the background
            self._gone(exc)
            return None
        self._levels[cls] = tuple(float(x) if x != "" else None for x in reply[2:5])  # type: ignore[assignment]
        return list(reply)

    def _gone(self, exc: BaseException) -> None:
        if self.mode == "redis":
            _log.warning("Redis budget unreachable (%s): pacing on a local share (1/%d of the limit)", type(exc).__name__, self.peers)
        self.mode, self.reason = "local-fallback", "Redis unreachable"

    async def _beat(self) -> None:
        try:
            peers = await asyncio.wait_for(
                self._heartbeat(keys=[self._peers_key], args=[self._member, int(PEER_TTL_SECONDS * 1000)]), _OPS_TIMEOUT * 2
            )
        except Exception as exc:  # noqa: BLE001
            self._gone(exc)
            return
        self.peers = max(1, int(peers))
        if self.mode != "redis":
            _log.warning("Redis budget reachable again: shared pacing resumes")
            self._fallback = LocalStore(mode="local-fallback", reason="Redis unreachable")
        self.mode, self.reason = "redis", ""

    async def _background(self) -> None:
        """Reconnect: while on the local fallback, try Redis again every ``reconnect_seconds``."""
        while True:
            await asyncio.sleep(self.reconnect_seconds if self.mode != "redis" else HEARTBEAT_SECONDS)
            if self.mode != "redis":
                await self._beat()

    def _heartbeat_thread(self) -> None:
        """Refresh this process's membership every HEARTBEAT_SECONDS, whatever the event loop is doing.

        It only writes the peer set and reads the count (an int, swapped atomically); switching
        between Redis and the fallback stays on the loop (``_call`` / ``_background``).
        """
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=_OPS_TIMEOUT, socket_connect_timeout=_OPS_TIMEOUT,
                                      decode_responses=True)
        beat = client.register_script(HEARTBEAT)
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    self.peers = max(1, int(beat(keys=[self._peers_key], args=[self._member, int(PEER_TTL_SECONDS * 1000)])))
                except Exception:  # noqa: BLE001 - Redis gone: the loop side notices and falls back
                    continue
        finally:
            client.close()


async def open_redis_store(url: str, api_key: str) -> RedisStore:
    """A started RedisStore (in fallback mode if Redis cannot be reached now)."""
    return await RedisStore(url, api_key).start()
