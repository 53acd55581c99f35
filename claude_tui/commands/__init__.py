"""Subcommands of ``claude-tui`` that live outside ``cli.py``.

Each module has ``add_parser(subparsers) -> ArgumentParser`` (which sets ``func=run``) and
``run(ns) -> int`` (the exit code). The main CLI does::

    sub = parser.add_subparsers(dest="command")
    config_cmd.add_parser(sub)
    history_cmd.add_parser(sub)
    ...
    ns = parser.parse_args(argv)
    return ns.func(ns)

(``claude_tui.cli.build_parser`` registers them.)
"""
