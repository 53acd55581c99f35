"""Subcommands of ``claude-tui`` that live outside ``cli.py``.

Each module has ``add_arguments(parser)`` (which sets ``func=run``) and ``run(ns) -> int`` (the
exit code). ``claude_tui.cli.build_parser`` names each subcommand and gives it its help line, and
calls ``add_arguments`` only for the subcommand being run (or for all of them)::

    history_cmd.add_arguments(subparsers.add_parser("history", help=...))
    ns = parser.parse_args(argv)
    return ns.func(ns)
"""
