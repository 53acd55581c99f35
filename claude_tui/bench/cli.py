"""``claude-tui bench``: engine benchmarks against the simulator.

Kept import-light (argparse only at module level): ``claude-tui --help`` imports this module.
The SDK, the engine and the simulator load inside ``run``.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..argtypes import positive_int

SCENARIO_NAMES = ("table", "scaling", "rate-limit", "shared-limit", "faults")


def _concurrency_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return values


def _scenarios(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if name not in SCENARIO_NAMES:
            raise argparse.ArgumentTypeError(f"unknown scenario {name!r} (choose from {', '.join(SCENARIO_NAMES)})")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Benchmark the engine (the request pool the TUI uses) against the built-in simulator, each scenario "
        "on its own simulator process(es): the guide's table reproduced, scaling with concurrency, "
        "behaviour under a rate limit, and under faults. Always simulated: it never calls the real API, "
        "even when ANTHROPIC_API_KEY is set."
    )
    parser.add_argument("--simulate", action="store_true",
                        help="run against the simulator (the default and only target; accepted for symmetry)")
    parser.add_argument("--scenario", type=_scenarios, action="append", metavar="NAME",
                        help=f"scenario(s) to run, repeatable or comma-separated: {', '.join(SCENARIO_NAMES)} (default: all)")
    parser.add_argument("--requests", type=positive_int, metavar="N",
                        help="requests per run, overriding every scenario's default (e.g. --requests 200 for the "
                             "rate-limit scenario as the issue sets it up)")
    parser.add_argument("--concurrency", type=_concurrency_list, metavar="LIST",
                        help="concurrency levels for the scaling scenario, e.g. 1,5,10,20")
    parser.add_argument("--quick", action="store_true", help="small runs for CI (under a minute in total)")
    parser.add_argument("--json", metavar="FILE", dest="json_file", help="also write the figures as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown")


def run(ns: argparse.Namespace) -> int:
    import asyncio
    import json

    from rich.console import Console

    from . import report
    from .scenarios import Settings, run_scenario

    names: list[str] = []
    for group in getattr(ns, "scenario", None) or [list(SCENARIO_NAMES)]:
        names += [n for n in group if n not in names]
    settings = Settings(quick=bool(getattr(ns, "quick", False)), requests=getattr(ns, "requests", None),
                        concurrency=getattr(ns, "concurrency", None))
    console = Console(width=None if sys.stdout.isatty() else 200, soft_wrap=False)
    if os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"):
        console.print("[yellow]note:[/] claude-tui bench always runs against its own simulators; "
                      "the API key in the environment is not used.")
    console.print(f"claude-tui bench — scenarios: {', '.join(names)}{' (quick)' if settings.quick else ''}; "
                  f"simulator in a separate process; {os.cpu_count()} CPUs\n")

    results: list[dict] = []
    failures = 0
    for name in names:
        try:
            result = asyncio.run(run_scenario(name, settings)).as_dict()
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - report the scenario, run the rest
            failures += 1
            console.print(f"[red]scenario {name} failed:[/] {type(exc).__name__}: {exc}")
            continue
        results.append(result)
        report.print_result(console, result)

    doc = report.document(results, argv=sys.argv[1:] if sys.argv else None, quick=settings.quick)
    if getattr(ns, "json_file", None):
        with open(ns.json_file, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        console.print(f"figures written to {ns.json_file}")
    if getattr(ns, "markdown", None):
        with open(ns.markdown, "w", encoding="utf-8") as fh:
            fh.write("\n".join(report.markdown(r) for r in results))
        console.print(f"tables written to {ns.markdown}")
    return 1 if failures else 0
