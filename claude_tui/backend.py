"""Where requests go: the real API when there is a key, otherwise the embedded simulator.

Both the TUI and the headless runner call ``open_backend``; the UI shows ``backend.label`` so
nobody mistakes the simulator for Claude.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .simulator import SimulatorConfig
    from .simulator.server import ThreadedSimulator

SIMULATOR_KEY = "sim-key-not-secret"
#: Handed to the SDK explicitly: given None it reads ANTHROPIC_BASE_URL itself, and an empty one
#: became the URL (5 attempts, then "missing protocol"). Empty means unset, as in config/load.py.
API_BASE_URL = "https://api.anthropic.com"


@dataclass
class Backend:
    api_key: str
    base_url: str | None
    simulated: bool
    _stop: Callable[[], None] | None = field(default=None, repr=False)
    simulator: "ThreadedSimulator | None" = field(default=None, repr=False)

    @property
    def label(self) -> str:
        if self.simulated:
            return f"simulator {self.base_url}"
        return "api.anthropic.com" if self.base_url in (None, API_BASE_URL) else self.base_url

    def close(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def __repr__(self) -> str:  # never show the key
        return f"Backend(base_url={self.base_url!r}, simulated={self.simulated})"


def open_backend(
    *,
    simulate: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    simulator_config: "SimulatorConfig | None" = None,
    env: dict[str, str] | None = None,
) -> Backend:
    """The simulator when asked or when no key is known; otherwise the real API (or ANTHROPIC_BASE_URL)."""
    env = dict(os.environ) if env is None else env
    key = api_key or env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")
    if not simulate and key:
        return Backend(api_key=key, base_url=base_url or env.get("ANTHROPIC_BASE_URL") or API_BASE_URL, simulated=False)
    from .simulator import SimulatorConfig, start_in_thread

    handle = start_in_thread(simulator_config or SimulatorConfig())
    return Backend(api_key=SIMULATOR_KEY, base_url=handle.base_url, simulated=True, _stop=handle.stop, simulator=handle)
