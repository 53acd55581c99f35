"""An Anthropic-compatible HTTP simulator (aiohttp) for development, tests and benchmarks.

Importing this package is light: ``SimulatorConfig``, ``parse_faults`` and the argparse
helpers need no aiohttp; ``Simulator``, ``ThreadedSimulator``, ``start_in_thread`` and
``serve_forever`` load the server on first use. See docs/simulator.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .cli_args import add_simulate_arguments, config_from_args
from .config import FAULT_KINDS, SimulatorConfig, parse_faults

if TYPE_CHECKING:
    from .server import Simulator, ThreadedSimulator, serve_forever, start_in_thread
    from .stats import RequestRecord, StatsSnapshot

__all__ = [
    "FAULT_KINDS",
    "RequestRecord",
    "Simulator",
    "SimulatorConfig",
    "StatsSnapshot",
    "ThreadedSimulator",
    "add_simulate_arguments",
    "config_from_args",
    "parse_faults",
    "serve_forever",
    "start_in_thread",
]

_LAZY = {
    "Simulator": "server",
    "ThreadedSimulator": "server",
    "start_in_thread": "server",
    "serve_forever": "server",
    "RequestRecord": "stats",
    "StatsSnapshot": "stats",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
