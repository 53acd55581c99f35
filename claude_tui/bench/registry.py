"""Every scenario by name, and running one with its duration and load average.

A module of its own so the scenario modules (``scenarios``, ``limit_scenarios``, ``serve``) build on
``scenarios``' helpers without importing each other back. A new scenario module adds a line to
``_MODULES`` (and its name to ``cli.SCENARIO_NAMES``); its rows are ``measure.row`` dicts, so tables,
JSON, schema, plots and ``--repeat`` medians need nothing more.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Awaitable, Callable

from .scenarios import ScenarioResult, Settings

Runner = Callable[[Settings], Awaitable[ScenarioResult]]

#: name -> (module, function); imported when asked for, so `bench --scenario table` loads no Redis code.
_MODULES: dict[str, tuple[str, str]] = {
    "table": ("scenarios", "scenario_table"),
    "scaling": ("scenarios", "scenario_scaling"),
    "faults": ("scenarios", "scenario_faults"),
    "rate-limit": ("limit_scenarios", "scenario_rate_limit"),
    "shared-limit": ("limit_scenarios", "scenario_shared_limit"),
    "serve": ("serve", "scenario_serve"),
}


def runner(name: str) -> Runner:
    module, function = _MODULES[name]
    found: Runner = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    return found


async def run_scenario(name: str, settings: Settings) -> ScenarioResult:
    load_before = os.getloadavg()
    started = time.monotonic()
    result = await runner(name)(settings)
    result.duration_s = time.monotonic() - started
    result.load_average = {"before": [round(v, 2) for v in load_before], "after": [round(v, 2) for v in os.getloadavg()]}
    return result
