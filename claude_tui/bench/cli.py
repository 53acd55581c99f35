"""``claude-tui bench``: engine benchmarks against the simulator.

Kept import-light (argparse only at module level): ``claude-tui --help`` imports this module.
The SDK, the engine and the simulator load inside ``run``.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..argtypes import positive_int

SCENARIO_NAMES = ("table", "scaling", "rate-limit", "shared-limit", "faults", "serve")
DEFAULT_SCENARIOS = ("table", "scaling", "rate-limit", "faults")  # serve is asked for by name


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected requests per second (a number, or inf), got {text!r}") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a positive rate, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _objective(text: str) -> str:
    from .measure import parse_goodput

    try:
        parse_goodput([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


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
    parser.add_argument("--json", metavar="FILE", dest="json_file",
                        help="also write the figures as JSON (vLLM bench serve field names; benchmarks/bench.schema.json)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown")
    parser.add_argument("--repeat", type=positive_int, default=1, metavar="N",
                        help="run each scenario N times and report the median of each figure (publish with 3)")
    parser.add_argument("--plot", metavar="DIR",
                        help="write SVG charts to DIR (needs the 'plot' extra: pip install 'claude-tui[plot]')")
    arrivals = parser.add_argument_group("arrivals (the serve scenario, as vLLM bench serve)")
    arrivals.add_argument("--request-rate", type=_rate, default=float("inf"), metavar="R",
                          help="mean requests per second; inf (the default) sends all at once")
    arrivals.add_argument("--burstiness", type=_positive_float, default=1.0, metavar="B",
                          help="gamma shape of the gaps between arrivals: 1 = Poisson, <1 burstier, >1 steadier")
    arrivals.add_argument("--max-concurrency", type=positive_int, metavar="N",
                          help="at most N requests in flight (closed loop); unset: every arrived request goes")
    parser.add_argument("--goodput", nargs="+", type=_objective, metavar="METRIC:MS",
                        help="service-level objectives, e.g. ttft:500 e2el:8000 (metrics: ttft, tpot, itl, e2el); a "
                             "request is good only if it meets all; lost requests count against")


def run(ns: argparse.Namespace) -> int:
    import asyncio
    import json

    from rich.console import Console

    from . import report
    from .registry import run_scenario
    from .scenarios import Settings

    from . import measure

    plot_dir = getattr(ns, "plot", None)
    if plot_dir:
        from .plots import PlotsUnavailable, check_available

        try:
            check_available()
        except PlotsUnavailable as exc:
            print(f"claude-tui bench: {exc}", file=sys.stderr)
            return 2
    names: list[str] = []
    for group in getattr(ns, "scenario", None) or [list(DEFAULT_SCENARIOS)]:
        names += [n for n in group if n not in names]
    settings = Settings(quick=bool(getattr(ns, "quick", False)), requests=getattr(ns, "requests", None),
                        concurrency=getattr(ns, "concurrency", None),
                        request_rate=getattr(ns, "request_rate", float("inf")), burstiness=getattr(ns, "burstiness", 1.0),
                        max_concurrency=getattr(ns, "max_concurrency", None))
    measure.GOODPUT_SLO.clear()
    measure.GOODPUT_SLO.update(measure.parse_goodput(getattr(ns, "goodput", None) or []))
    repeat = getattr(ns, "repeat", 1) or 1
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
            runs = [asyncio.run(run_scenario(name, settings)).as_dict() for _ in range(repeat)]
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - report the scenario, run the rest
            failures += 1
            console.print(f"[red]scenario {name} failed:[/] {type(exc).__name__}: {exc}")
            continue
        result = report.merge_repeats(runs) if repeat > 1 else runs[0]
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
    if plot_dir:
        from .plots import terminal_chart, write_plots

        written = write_plots(doc, plot_dir)
        console.print(f"charts written to {plot_dir}: {', '.join(p.name for p in written) or 'none (no rows to plot)'}")
        chart = terminal_chart(doc)
        if chart:
            console.print(chart, markup=False, highlight=False, soft_wrap=True)
    return 1 if failures else 0
