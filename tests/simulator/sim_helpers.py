"""Shared helpers for the simulator tests (imported by name: tests/simulator is on sys.path)."""

from __future__ import annotations

import anthropic

from claude_tui.simulator import Simulator, SimulatorConfig

FAST = dict(ttft_ms=5, tps=0, reply_tokens=60, fixed_length=True, jitter=0.0, rpm=None, itpm=None, otpm=None)
MODEL = "claude-sonnet-4-6"
HELLO = [{"role": "user", "content": "Hello there, how do token buckets work?"}]


def fast_config(**overrides: object) -> SimulatorConfig:
    return SimulatorConfig(**{**FAST, **overrides})  # type: ignore[arg-type]


def client_for(sim: Simulator, api_key: str = "sim-key", **kw: object) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=api_key, base_url=sim.base_url, max_retries=0, **kw)
