"""The command line: chat (default), simulate, run, bench, history, config.

Imports are lazy so `claude-tui --version` and `--help` stay fast (no Textual, no SDK).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Sequence

from . import __version__
from .cli_error import EXIT_USAGE, CliError

def _add_request_options(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("--simulate", action="store_true", help="use the built-in simulator even if ANTHROPIC_API_KEY is set")
    _add_setting_flags(parser, command)


def _add_setting_flags(parser: argparse.ArgumentParser, command: str) -> None:
    """--model, --max-tokens, --max-attempts, --sim-rpm, ...: one per setting that names a flag (config/specs.py)."""
    from .config.flags import add_setting_flags

    add_setting_flags(parser, command)


def _add_chat(parser: argparse.ArgumentParser) -> None:
    _add_request_options(parser, "chat")
    parser.set_defaults(func=_run_chat)


def _add_simulate(parser: argparse.ArgumentParser) -> None:
    from .simulator.cli_args import add_simulate_arguments

    add_simulate_arguments(parser)
    parser.set_defaults(func=_run_simulate)


def _add_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="prompts file, or - for stdin")
    parser.add_argument("--out", help="results JSONL (appended; ids already succeeded there are skipped)")
    _add_request_options(parser, "run")
    from .headless.modes import add_arguments as add_mode_arguments

    add_mode_arguments(parser)
    parser.add_argument("--distribute", action="store_true",
                        help="put the prompts on a Redis Stream (--redis) for `claude-tui worker`s and collect their results "
                             "into --out; the same command again re-attaches")
    parser.set_defaults(func=_run_batch)


def _add_worker(parser: argparse.ArgumentParser) -> None:
    _add_request_options(parser, "run")
    from .distributed.cli_args import add_worker_arguments

    add_worker_arguments(parser)
    parser.set_defaults(func=_run_worker)


def _add_bench(parser: argparse.ArgumentParser) -> None:
    from .bench.cli import add_arguments

    add_arguments(parser)
    parser.set_defaults(func=_run_bench, bench_parser=parser)


def _add_history(parser: argparse.ArgumentParser) -> None:
    from .commands import history_cmd

    history_cmd.add_arguments(parser)


def _add_config(parser: argparse.ArgumentParser) -> None:
    from .commands import config_cmd

    config_cmd.add_arguments(parser)


#: Each subcommand: its line in ``--help``, and what adds its arguments (importing its modules).
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "chat": ("open the terminal app (the default)", _add_chat),
    "simulate": ("serve the Anthropic-compatible simulator on loopback", _add_simulate),
    "run": ("run a file of prompts headless (text: one per line, or JSONL)", _add_run),
    "worker": ("take prompts of `run --distribute` jobs from Redis and run them", _add_worker),
    "bench": ("benchmark the engine against the simulator", _add_bench),
    "history": ("list, show, export and summarise past conversations", _add_history),
    "config": ("show or create the configuration file", _add_config),
}
SUBCOMMANDS = tuple(_COMMANDS)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or (``command``) only that subcommand's arguments.

    The others are then listed by name and help line only, so `run` imports none of their modules
    (the history commands, Redis workers, the bench) and `--version` / `--help` import none at all:
    building every subcommand cost `--version` 0.16 s.
    """
    parser = argparse.ArgumentParser(
        prog="claude-tui",
        description="Tabs of streaming Claude chats over one bounded request pool, with visible queueing, "
        "backoff countdowns and live latency/cost figures. Without ANTHROPIC_API_KEY it runs against a built-in simulator.",
    )
    parser.add_argument("--version", action="version", version=f"claude-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments) in _COMMANDS.items():
        subparser = sub.add_parser(name, help=help_text)
        if command is None or command == name:
            add_arguments(subparser)
    return parser


def _settings(ns: argparse.Namespace) -> Any:
    """Effective settings: flag > environment > config file > default."""
    from .config import load_settings, overrides_from_namespace

    return load_settings(overrides_from_namespace(ns))


def _run_chat(ns: argparse.Namespace) -> int:
    settings = _settings(ns)
    from .launch import launch

    return launch(settings, simulate=getattr(ns, "simulate", False))


def _run_simulate(ns: argparse.Namespace) -> int:
    import asyncio

    from .simulator import serve_forever
    from .simulator.cli_args import config_from_args

    try:
        config = config_from_args(ns)
    except ValueError as exc:
        raise CliError(f"claude-tui simulate: {exc}") from None
    try:
        asyncio.run(serve_forever(config))
    except KeyboardInterrupt:
        print("simulator stopped", file=sys.stderr)
    except OSError as exc:
        raise CliError(f"cannot serve on {config.host}:{config.port}: {exc.strerror or exc}") from None
    return 0


def _run_batch(ns: argparse.Namespace) -> int:
    from .gc_policy import start_up_paused

    with start_up_paused():  # until the first prompts are submitted (run_batch says when): see gc_policy
        return _run_batch_paused(ns)


def _run_batch_paused(ns: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from rich.console import Console

    from .backend import open_backend
    from .services import open_services
    from .headless.prompts import PromptFileError, read_prompts
    from .headless.run import run_batch

    from .headless.results import ResultsFileError, check_out_path

    out_path = Path(ns.out) if ns.out else None
    if out_path is not None:
        try:  # before anything slow starts (settings, the SDK, the simulator)
            check_out_path(out_path)
        except ResultsFileError as exc:
            raise CliError(f"claude-tui run: {exc}") from None
    settings = _settings(ns)
    try:
        specs = read_prompts(ns.file)
    except PromptFileError as exc:
        raise CliError(f"claude-tui run: {exc}") from None
    if getattr(ns, "distribute", False) and not getattr(ns, "dry_run", False):
        from .distributed.cli_args import run_distribute

        return run_distribute(ns, specs, _run_options(settings), settings, out_path)
    backend = open_backend(
        simulate=ns.simulate, api_key=settings.api_key, base_url=settings.base_url, simulator_config=settings.simulator.to_simulator_config()
    )
    console = Console(stderr=True)
    if backend.simulated:
        console.print(f"[yellow]simulator[/] at {backend.base_url}: replies are not Claude's (--simulate, or no ANTHROPIC_API_KEY)")
    services = open_services(settings, stream_messages=False)
    for notice in services.notices:
        console.print(f"[yellow]{notice}[/]")
    try:
        from .headless.modes import dispatch

        code = dispatch(ns, specs, _run_options(settings), settings, backend, out_path, console,
                        listeners=services.listeners())
        if code is not None:  # --dry-run, --mode batch, or --mode auto choosing batch
            return code
        outcome = asyncio.run(
            run_batch(
                specs,
                _run_options(settings),
                api_key=backend.api_key,
                base_url=backend.base_url,
                out_path=out_path,
                console=console,
                listeners=services.listeners(),
            )
        )
    finally:
        backend.close()
        services.close()
    return outcome.exit_code


def _run_worker(ns: argparse.Namespace) -> int:
    from .distributed.cli_args import run_worker_command

    return run_worker_command(ns, _settings(ns), _run_options)


def _run_options(settings: Any) -> Any:
    from .headless.run import RunOptions

    return RunOptions(**settings.request_options(), limits=settings.limits)


def _run_bench(ns: argparse.Namespace) -> int:
    from .bench.cli import run as run_bench

    return run_bench(ns)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help", "--version")):
        args.insert(0, "chat")
    parser = build_parser(args[0])
    ns = parser.parse_args(args)
    func: Callable[[argparse.Namespace], int] = ns.func
    try:
        return func(ns)
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from .config import ConfigError

        if isinstance(exc, ConfigError):  # one clear line naming file, key and line; never a traceback
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
        raise


if __name__ == "__main__":
    sys.exit(main())
