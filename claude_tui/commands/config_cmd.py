"""``claude-tui config path | show | init [--force]``."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .. import config as cfg
from ..config.explain import render_settings

__all__ = ["add_arguments", "render_settings", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``config`` subcommand's arguments (``cli.build_parser`` gives it its name and help line)."""
    parser.description = "Settings come from: command-line flag > environment > config file > built-in default."
    parser.add_argument("--file", dest="config_path", default=argparse.SUPPRESS, help="use this config file instead of the usual one")
    actions = parser.add_subparsers(dest="config_action", metavar="{path,show,init}")
    actions.add_parser("path", help="print the config file's path")
    actions.add_parser("show", help="print the effective settings, where each came from, and what it does")
    init = actions.add_parser("init", help="write a commented default config file (mode 0600)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(func=run)


def _config_path(ns: Any) -> Any:
    """``--file``, else ``$CLAUDE_TUI_CONFIG``, else the usual place."""
    from .. import paths

    return getattr(ns, "config_path", None) or paths.config_file()


def run(ns: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    action = getattr(ns, "config_action", None) or "show"
    path = _config_path(ns)
    if action == "path":
        print(path, file=out)
        return 0
    if action == "init":
        try:
            written = cfg.write_default_config(path, force=getattr(ns, "force", False))
        except FileExistsError:
            print(f"config: {path} already exists; not overwriting it (use --force to replace it)", file=err)
            return 1
        except OSError as exc:
            print(f"config: cannot write {path}: {exc.strerror or exc}", file=err)
            return 1
        print(f"wrote {written} (mode 0600)", file=out)
        return 0
    if action == "show":
        try:
            # --file is read even if missing; a $CLAUDE_TUI_CONFIG naming a missing file is an error
            settings = cfg.load_settings(cfg.overrides_from_namespace(ns), path=getattr(ns, "config_path", None))
        except cfg.ConfigError as exc:
            print(exc, file=err)
            return 2
        out.write(render_settings(settings))
        return 0
    print(f"config: unknown action {action!r}", file=err)  # pragma: no cover - argparse rejects it first
    return 2
