"""Subcommands of ``claude-tui`` that live outside ``cli.py``.

Each module has ``add_parser(subparsers) -> ArgumentParser`` (which sets ``func=run``) and
``run(ns) -> int`` (the exit code). The main CLI does::

    sub = parser.add_subparsers(dest="command")
    config_cmd.add_parser(sub)
    history_cmd.add_parser(sub)
    ...
    ns = parser.parse_args(argv)
    return ns.func(ns)

``add_all(sub)`` registers both.
"""

from __future__ import annotations

from typing import Any


def add_all(subparsers: Any) -> None:
    from . import config_cmd, history_cmd

    config_cmd.add_parser(subparsers)
    history_cmd.add_parser(subparsers)
