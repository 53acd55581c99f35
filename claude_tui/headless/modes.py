"""`run --mode live|batch|auto` and `--dry-run`: the flags, and which runner a command goes to.

Kept apart from cli.py so the CLI only adds the flags and one dispatch call.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, Callable, Sequence

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runners import the SDK and rich: only when a run needs them (--help stays quick)
    from rich.console import Console

    from .plan import Limits
    from .prompts import PromptSpec
    from .run import RunOptions

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hms]?)\s*$")


def deadline_hours(text: str) -> float:
    """``2h``, ``90m``, ``3600s`` or a bare number of hours."""
    m = _DURATION.match(text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 2h, 90m, 3600s)")
    return float(m.group(1)) / {"h": 1, "": 1, "m": 60, "s": 3600}[m.group(2)]


def limits_arg(text: str) -> tuple[int | None, int | None, int | None]:
    parts = text.split(",")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected RPM,ITPM,OTPM, e.g. 50,30000,8000 (0 = unlimited)")
    return (values[0] or None, values[1] or None, values[2] or None)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("live or Message Batches")
    g.add_argument("--mode", choices=("live", "batch", "auto"), default="live",
                   help="live requests (default), Message Batches at half price (results within 24 h), "
                        "or auto: batch when the job is big or costly and --deadline allows an hour")
    g.add_argument("--dry-run", action="store_true",
                   help="send no message: print tokens, worst-case output, cost live and batch, live time")
    g.add_argument("--deadline", type=deadline_hours, metavar="DURATION",
                   help="when the results are needed (2h, 90m); --mode auto batches only if >= 1 h")
    g.add_argument("--rerun", choices=("live", "batch"), default="live",
                   help="errored / expired batch items: re-run live (default) or as a new batch")
    g.add_argument("--limits", type=limits_arg, metavar="RPM,ITPM,OTPM",
                   help="your rate limits, for the live-time estimate (default: the simulator's, else "
                        "tier 1's 50,30000,8000)")


def _limits(ns: argparse.Namespace, settings: Any, simulated: bool) -> tuple[Limits, str]:
    from .plan import DEFAULT_LIMITS, Limits

    if getattr(ns, "limits", None) is not None:
        return Limits(*ns.limits), "--limits"
    if simulated:
        sim = settings.simulator
        return Limits(sim.rpm or None, sim.itpm or None, sim.otpm or None), "the simulator's"
    return DEFAULT_LIMITS, "tier-1 defaults; pass --limits"


def dispatch(ns: argparse.Namespace, specs: list[PromptSpec], options: RunOptions, settings: Any, backend: Any,
             out_path: Path | None, console: Console, *, listeners: Sequence[Callable[[Any], None]] = ()) -> int | None:
    """Handle --dry-run / --mode batch / --mode auto; None means: run live as before."""
    mode = getattr(ns, "mode", "live")
    dry = getattr(ns, "dry_run", False)
    if mode == "live" and not dry:
        return None
    import asyncio

    from ..engine.pricing import PriceTable
    from .batch import BatchOptions, run_via_batches  # ~3 ms a live run does without
    from .plan import choose_mode, count_sample, make_plan, plan_lines
    from .run import EXIT_OK

    limits, limits_from = _limits(ns, settings, backend.simulated)

    async def plan(count: bool) -> Any:
        ratio = None
        if count:
            import anthropic

            async with anthropic.AsyncAnthropic(api_key=backend.api_key, base_url=backend.base_url,
                                                max_retries=1) as client:
                ratio = await count_sample(client, specs, options.model, options.system)
        return make_plan(specs, model=options.model, max_tokens=options.max_tokens, system=options.system,
                         prices=options.prices or PriceTable(), limits=limits, ratio=ratio)

    the_plan = asyncio.run(plan(count=dry))
    chosen, why = choose_mode(the_plan, getattr(ns, "deadline", None))
    if dry:
        for line in plan_lines(the_plan, chosen, why):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        console.print(f"rate limits used: {limits_from} (rpm={limits.rpm}, itpm={limits.itpm}, otpm={limits.otpm})",
                      highlight=False, markup=False)
        return EXIT_OK
    if mode == "auto":
        console.print(f"--mode auto chose {chosen}: {why}", highlight=False, markup=False, soft_wrap=True)
        if chosen == "live":
            return None
    if out_path is None:
        from ..cli_error import CliError

        raise CliError("claude-tui run: --mode batch needs --out (the results file and its batch ids are how "
                       "a re-run resumes)")
    outcome = asyncio.run(run_via_batches(
        specs, options, BatchOptions(rerun=getattr(ns, "rerun", "live")), api_key=backend.api_key,
        base_url=backend.base_url, out_path=out_path, console=console, listeners=listeners))
    return outcome.exit_code
