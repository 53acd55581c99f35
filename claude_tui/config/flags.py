"""The ``chat``/``run`` flags, derived from the declarations: every ``flag=`` a setting names exists.

``add_setting_flags(parser, "run")`` registers them (``default=None``, so an unset flag hides
neither the environment nor the file; booleans get ``--x/--no-x``); ``overrides_from_namespace``
turns the parsed namespace back into ``load_settings`` overrides. Numbers are checked while
parsing (argparse's one-line usage error, exit 2); strings by ``load_settings``.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from .specs import SPECS, Spec
from .validate import Invalid, parse_text


def flag_dest(flag: str) -> str:
    """argparse's dest for a flag: ``--max-tokens`` → ``max_tokens``."""
    return flag.lstrip("-").replace("-", "_")


def _converter(spec: Spec) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse_text(spec, text)
        except Invalid as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = spec.kind  # argparse names it in "invalid <name> value" messages
    return convert


def _default_text(spec: Spec) -> str:
    if spec.kind == "bool":
        return " (default: on)" if spec.default else " (default: off)"
    if spec.default in (None, ""):
        return ""  # the help says what unset means
    return f" (default: {spec.default:g})" if isinstance(spec.default, float) else f" (default: {spec.default})"


def add_setting_flags(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the flag of every setting that names one for ``command`` (see ``Spec.commands``)."""
    group = parser.add_argument_group("settings (flag > environment > config file > default; see `claude-tui config show`)")
    for spec in SPECS:
        if not spec.flag or command not in spec.commands:
            continue
        help_text = f"{spec.help}{_default_text(spec)}".replace("%", "%%")
        if spec.kind == "bool":
            group.add_argument(spec.flag, dest=flag_dest(spec.flag), action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif spec.kind == "str":
            group.add_argument(spec.flag, dest=flag_dest(spec.flag), default=None, help=help_text)
        else:
            group.add_argument(spec.flag, dest=flag_dest(spec.flag), type=_converter(spec), default=None, metavar="N" if spec.kind == "int" else "X", help=help_text)


def overrides_from_namespace(ns: Any) -> dict[str, Any]:
    """``cli_overrides`` for ``load_settings`` from an argparse namespace.

    For every setting with a flag, takes ``ns.<dest>`` if present and not None.
    """
    out: dict[str, Any] = {}
    for spec in SPECS:
        if spec.flag:
            value = getattr(ns, flag_dest(spec.flag), None)
            if value is not None:
                out[spec.key] = value
    return out
