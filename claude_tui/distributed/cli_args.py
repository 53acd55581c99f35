"""The `worker` subcommand's flags and the two entry points cli.py calls (kept here: cli.py only registers)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any, Callable

from .layout import MAX_DELIVERIES


def _positive(kind: type, what: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return convert


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("worker")
    g.add_argument("--claim-idle", type=_positive(float, "a number of seconds > 0"), default=60.0, metavar="SECONDS",
                   help="take over an entry another worker has held unacknowledged this long (default 60)")
    g.add_argument("--max-deliveries", type=_positive(int, "a whole number > 0"), default=MAX_DELIVERIES, metavar="N",
                   help=f"an entry delivered more than N times goes to the dead-letter stream (default {MAX_DELIVERIES})")
    g.add_argument("--job", metavar="ID", help="serve only this job (default: every open job on this Redis)")
    g.add_argument("--name", metavar="NAME", help="this worker's consumer name (default: host-pid-random)")


def _error(command: str, message: str) -> Any:
    from ..cli_error import CliError

    return CliError(f"claude-tui {command}: {message}")


def run_distribute(ns: argparse.Namespace, specs: list[Any], options: Any, settings: Any, out_path: Path | None) -> int:
    """`run --distribute`: checks its flags, then enqueues and collects (no API call from here)."""
    from rich.console import Console

    from .submit import run_distributed

    if getattr(ns, "mode", "live") != "live":
        raise _error("run", "--distribute runs live requests on workers; it does not combine with --mode batch/auto")
    if out_path is None:
        raise _error("run", "--distribute needs --out (the results file is how a re-run re-attaches)")
    if not settings.limits.redis_url:
        raise _error("run", "--distribute needs --redis URL (or CLAUDE_TUI_REDIS_URL)")
    console = Console(stderr=True)
    source = "<stdin>" if ns.file == "-" else Path(ns.file).name
    outcome = asyncio.run(run_distributed(specs, options, redis_url=settings.limits.redis_url, out_path=out_path,
                                          console=console, source=source))
    return outcome.exit_code


def run_worker_command(ns: argparse.Namespace, settings: Any, run_options: Callable[[Any], Any]) -> int:
    from rich.console import Console

    from ..backend import open_backend
    from ..services import open_services
    from .worker import WorkerOptions, run_worker

    if not settings.limits.redis_url:
        raise _error("worker", "needs --redis URL (or CLAUDE_TUI_REDIS_URL)")
    given = [flag for flag, dest in (("--model", "model"), ("--max-tokens", "max_tokens"), ("--system", "system"))
             if getattr(ns, dest, None) is not None]
    if given:  # each prompt's request was fixed by `run --distribute`; a worker only runs it
        raise _error("worker", f"{', '.join(given)}: the job sets the request; pass it to `run --distribute`")
    console = Console(stderr=True)
    backend = open_backend(simulate=ns.simulate, api_key=settings.api_key, base_url=settings.base_url,
                           simulator_config=settings.simulator.to_simulator_config())
    if backend.simulated:
        console.print(f"[yellow]simulator[/] at {backend.base_url}: replies are not Claude's (--simulate, or no ANTHROPIC_API_KEY)")
    services = open_services(settings, stream_messages=False)
    for notice in services.notices:
        console.print(f"[yellow]{notice}[/]")
    wopts = WorkerOptions(claim_idle=ns.claim_idle, max_deliveries=ns.max_deliveries, job=ns.job, name=ns.name)
    try:
        return asyncio.run(run_worker(run_options(settings), wopts, redis_url=settings.limits.redis_url,
                                      api_key=backend.api_key, base_url=backend.base_url, console=console,
                                      listeners=services.listeners()))
    finally:
        backend.close()
        services.close()
