"""The command line: chat (default), simulate, run, bench, history, config.

Imports are lazy so `claude-tui --version` and `--help` stay fast (no Textual, no SDK).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Sequence

from . import __version__

SUBCOMMANDS = ("chat", "simulate", "run", "bench", "history", "config")
EXIT_USAGE = 2


class CliError(Exception):
    """A one-line, user-facing error; the CLI prints it and exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _add_request_options(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("--simulate", action="store_true", help="use the built-in simulator even if ANTHROPIC_API_KEY is set")
    _add_setting_flags(parser, command)


def _add_setting_flags(parser: argparse.ArgumentParser, command: str) -> None:
    """--model, --max-tokens, --max-attempts, --sim-rpm, ...: one per setting that names a flag (config/specs.py)."""
    from .config.flags import add_setting_flags

    add_setting_flags(parser, command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claude-tui",
        description="Tabs of streaming Claude chats over one bounded request pool, with visible queueing, "
        "backoff countdowns and live latency/cost figures. Without ANTHROPIC_API_KEY it runs against a built-in simulator.",
    )
    parser.add_argument("--version", action="version", version=f"claude-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="open the terminal app (the default)")
    _add_request_options(chat, "chat")
    chat.set_defaults(func=_run_chat)

    simulate = sub.add_parser("simulate", help="serve the Anthropic-compatible simulator on loopback")
    from .simulator.cli_args import add_simulate_arguments

    add_simulate_arguments(simulate)
    simulate.set_defaults(func=_run_simulate)

    run = sub.add_parser("run", help="run a file of prompts headless (text: one per line, or JSONL)")
    run.add_argument("file", help="prompts file, or - for stdin")
    run.add_argument("--out", help="results JSONL (appended; ids already succeeded there are skipped)")
    _add_request_options(run, "run")
    from .headless.modes import add_arguments as add_mode_arguments

    add_mode_arguments(run)
    run.set_defaults(func=_run_batch)

    bench = sub.add_parser("bench", help="benchmark the engine against the simulator")
    bench.set_defaults(func=_run_bench, bench_parser=bench)
    _add_bench_arguments(bench)

    for name in ("history", "config"):
        module = _command_module(name)
        if module is not None:
            module.add_parser(sub)
    return parser


def _add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    try:
        from .bench.cli import add_arguments
    except ImportError:
        return
    add_arguments(parser)


def _command_module(name: str) -> Any:
    try:
        if name == "history":
            from .commands import history_cmd as module
        else:
            from .commands import config_cmd as module
    except ImportError:
        return None
    return module


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
    import asyncio
    from pathlib import Path

    from rich.console import Console

    from .backend import open_backend
    from .services import open_services
    from .headless.prompts import PromptFileError, read_prompts
    from .headless.run import RunOptions, run_batch

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
                        listeners=services.listeners(), track=services.track)
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
                track=services.track,
            )
        )
    finally:
        backend.close()
        services.close()
    return outcome.exit_code


def _run_options(settings: Any) -> Any:
    from .headless.run import RunOptions

    return RunOptions(**settings.request_options(), limits=settings.limits)


def _run_bench(ns: argparse.Namespace) -> int:
    try:
        from .bench.cli import run as run_bench
    except ImportError:
        raise CliError("claude-tui bench is not available in this build") from None
    return run_bench(ns)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help", "--version")):
        args.insert(0, "chat")
    parser = build_parser()
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
