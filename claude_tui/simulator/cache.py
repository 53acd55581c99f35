"""Prompt caching: `cache_control` breakpoints, a cache per (model, prefix), and the usage it reports.

Follows the prompt-caching page of the API docs (platform.claude.com/docs/en/build-with-claude/
prompt-caching): the prefix is tools, then system, then messages, in that order; a breakpoint
caches everything up to and including its block; at most 4 breakpoints (the top-level automatic
form takes one, on the last block); a hit is looked for at the breakpoint and up to 20 blocks
before it; a prefix shorter than the model's minimum is silently not cached; an entry lives
5 minutes (or 1 hour) from its last use. Nothing is stored until the request is admitted.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from claude_tui.engine.models import MIN_CACHEABLE, min_cacheable  # the one model table has the minimums

from .request_errors import bad

__all__ = ["MIN_CACHEABLE", "CacheUsage", "PromptCache", "breakpoints", "min_cacheable"]

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


@dataclass(slots=True)
class CacheUsage:
    read: int = 0
    created_5m: int = 0
    created_1h: int = 0
    writes: list[tuple[str, float]] = field(default_factory=list)  # (key, ttl seconds) stored on commit
    refresh: list[tuple[str, float]] = field(default_factory=list)  # read entries whose life restarts

    @property
    def created(self) -> int:
        return self.created_5m + self.created_1h


def _check_control(value: Any, where: str) -> str:
    if not isinstance(value, dict) or value.get("type") != "ephemeral":
        raise bad(f"{where}.cache_control.type: Input should be 'ephemeral'")
    ttl = value.get("ttl", "5m")
    if ttl not in TTL_SECONDS:
        raise bad(f"{where}.cache_control.ttl: Input should be '5m' or '1h'")
    return str(ttl)


def _block_tokens(block: Any) -> int:
    if isinstance(block, dict):
        if block.get("type") == "text":
            return math.ceil(len(block.get("text", "")) / 4)
        if block.get("type") in ("image", "document"):
            return 1600
        if block.get("type") in ("thinking", "redacted_thinking"):
            return 0
        block = {k: v for k, v in block.items() if k != "cache_control"}
    return math.ceil(len(json.dumps(block, separators=(",", ":"), default=str)) / 4)


def _blocks(body: dict[str, Any]) -> list[tuple[Any, str]]:
    """The prompt's blocks in cache order (tools, system, messages), each with its field path."""
    out: list[tuple[Any, str]] = []
    for i, tool in enumerate(body.get("tools") or ()):
        out.append((tool, f"tools.{i}"))
    system = body.get("system")
    if isinstance(system, str):
        out.append(({"type": "text", "text": system}, "system"))
    elif isinstance(system, list):
        out.extend((b, f"system.{i}") for i, b in enumerate(system))
    for i, msg in enumerate(body.get("messages") or ()):
        content = msg.get("content") if isinstance(msg, dict) else None
        role = msg.get("role") if isinstance(msg, dict) else None
        if isinstance(content, str):
            out.append(({"type": "text", "text": content, "role": role}, f"messages.{i}"))
        elif isinstance(content, list):
            out.extend(({**b, "role": role} if isinstance(b, dict) else b, f"messages.{i}.content.{j}")
                       for j, b in enumerate(content))
    return out


def _has_marks(body: dict[str, Any]) -> bool:
    """A cheap scan first: most requests carry no cache_control, and this runs on every request."""
    if "cache_control" in body:
        return True
    groups: list[Any] = [body.get("tools") or (), body.get("system") if isinstance(body.get("system"), list) else ()]
    groups.extend(m.get("content") for m in body.get("messages") or () if isinstance(m, dict))
    return any(isinstance(group, list) and any(isinstance(b, dict) and "cache_control" in b for b in group)
               for group in groups)


def breakpoints(body: dict[str, Any]) -> list[tuple[int, str]]:
    """(block index, ttl) of each breakpoint; 400 for a malformed one or more than four."""
    if not _has_marks(body):
        return []
    blocks = _blocks(body)
    found: list[tuple[int, str]] = []
    for i, (block, where) in enumerate(blocks):
        if isinstance(block, dict) and "cache_control" in block:
            found.append((i, _check_control(block["cache_control"], where)))
    if "cache_control" in body:
        ttl = _check_control(body["cache_control"], "")  # the top-level automatic form
        if blocks and all(i != len(blocks) - 1 for i, _ in found):
            found.append((len(blocks) - 1, ttl))
    if len(found) > MAX_BREAKPOINTS:
        raise bad(f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {len(found)}.")
    return found


class PromptCache:
    """Entries keyed by (model, prefix hash) with an expiry; thread-safe (a ThreadedSimulator shares it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, float] = {}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def plan(self, body: dict[str, Any], total_tokens: int) -> CacheUsage:
        """What this request reads and would write (call ``commit`` once it is admitted)."""
        usage = CacheUsage()
        marks = breakpoints(body)
        if not marks:
            return usage
        blocks = _blocks(body)
        model = str(body.get("model"))
        minimum = min_cacheable(model)
        hasher = hashlib.blake2b(model.encode(), digest_size=16)
        keys: list[str] = []
        ends: list[int] = []  # cumulative tokens through block i
        running = 0
        for block, _where in blocks:
            clean = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
            hasher.update(json.dumps(clean, sort_keys=True, separators=(",", ":"), default=str).encode())
            keys.append(hasher.copy().hexdigest())
            running += _block_tokens(block)
            ends.append(running)
        # the estimate here and the request's total differ a little; never report more than it
        cap = max(0, total_tokens - 1)
        ends = [min(e, cap) for e in ends]
        now = self._clock()
        with self._lock:
            hit = -1
            for index, _ttl in marks:
                for j in range(index, max(-1, index - LOOKBACK_BLOCKS), -1):
                    expiry = self._entries.get(keys[j])
                    if expiry is not None and expiry > now and j > hit:
                        hit = j
                        break
        done = ends[hit] if hit >= 0 else 0
        if hit >= 0:
            usage.read = done
            usage.refresh.append((keys[hit], self._ttl_of(marks, hit)))
        for index, ttl in marks:
            if index <= hit or ends[index] < minimum:
                continue  # already read, or too short to cache (silently, as the API does)
            segment = ends[index] - done
            if ttl == "1h":
                usage.created_1h += segment
            else:
                usage.created_5m += segment
            done = ends[index]
            usage.writes.append((keys[index], TTL_SECONDS[ttl]))
        return usage

    @staticmethod
    def _ttl_of(marks: list[tuple[int, str]], block: int) -> float:
        later = [ttl for index, ttl in marks if index >= block]
        return TTL_SECONDS[later[0] if later else "5m"]

    def commit(self, usage: CacheUsage) -> None:
        now = self._clock()
        with self._lock:
            for key, ttl in usage.writes + usage.refresh:
                self._entries[key] = max(self._entries.get(key, 0.0), now + ttl)
