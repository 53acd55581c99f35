"""Settings: command-line flag > environment > config file (TOML) > built-in default.

    settings = load_settings({"model": ns.model, "concurrency": ns.concurrency})
    settings.concurrency, settings.retry.max_attempts, settings.simulator.rpm
    settings.source("retry.max_attempts")   # "default" | "config file (PATH:LINE)" | ...

Reads only ``SPECS``: a new declaration in ``specs.py`` is loaded from the file, the environment
and the command line with no change here. An environment variable set to the empty string is
the same as one not set (``ANTHROPIC_BASE_URL=""`` is not a URL, ``ANTHROPIC_API_KEY=""`` is no
key). A bad file raises ``ConfigError`` whose ``str()`` is one line naming the file, the line
and the key.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from .. import paths
from .errors import ConfigError
from .specs import SPEC_BY_KEY, SPECS, TABLE_TYPES, TABLES, Settings
from .validate import Invalid, check, check_price, parse_text, show

# --------------------------------------------------------------------------------------------
# Line numbers (tomllib reports none for valid TOML)

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_KEY_RE = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_HEADER_RE = re.compile(rf"^\s*\[\[?\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\]?\s*(?:#.*)?$")


def _split_key(text: str) -> list[str]:
    parts = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', text):
        parts.append(next(g for g in m.groups() if g is not None))
    return parts


def key_lines(text: str) -> dict[str, int]:
    """Map every dotted key (and table) written in ``text`` to the line it is on (1-based)."""
    found: dict[str, int] = {}
    table: list[str] = []
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _HEADER_RE.match(line)
        if header:
            table = _split_key(header.group(1))
            for i in range(1, len(table) + 1):  # [a."b"] also defines the implicit table a
                found.setdefault(".".join(table[:i]), number)
            continue
        m = _KEY_RE.match(line)
        if not m:
            continue
        path = table + _split_key(m.group(1))
        for i in range(len(table) + 1, len(path) + 1):
            found.setdefault(".".join(path[:i]), number)
        rest = line[m.end():]
        for delim in ('"""', "'''"):
            if rest.count(delim) % 2 == 1:
                in_multiline = delim
                break
        if "{" in rest:  # an inline table: its keys are on this line too
            for inner in re.finditer(rf"({_KEY_PART})\s*=", rest):
                found.setdefault(".".join(path + _split_key(inner.group(1))), number)
    return found


def _line_of(lines: Mapping[str, int], key: str) -> int | None:
    parts = key.split(".")
    while parts:
        joined = ".".join(parts)
        if joined in lines:
            return lines[joined]
        parts.pop()
    return None


# --------------------------------------------------------------------------------------------
# The file


def _where(path: Path, line: int | None) -> str:
    return f"{path} line {line}" if line else str(path)


def _read_file(path: Path) -> dict[str, tuple[Any, str]]:
    """Parse and validate the file: ``{key: (value, source)}``; a missing file sets nothing."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError(f"config error: {path}: is a directory, not a file", path=path) from None
    except OSError as exc:
        raise ConfigError(f"config error: {path}: cannot read it ({exc.strerror or exc})", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"config error: {path} line {bad_line}: not valid UTF-8 text", path=path, line=bad_line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        line = int(m.group(1)) if m else None
        raise ConfigError(f"config error: {_where(path, line)}: invalid TOML: {exc}", path=path, line=line) from None

    if "api_key" in data:
        _check_private(path)
    lines = key_lines(text)
    values: dict[str, tuple[Any, str]] = {}

    def fail(message: str, key: str) -> ConfigError:
        line = _line_of(lines, key)
        return ConfigError(f"config error: {_where(path, line)}: {message}", path=path, line=line, key=key)

    def source(key: str) -> str:
        line = _line_of(lines, key)
        return f"config file ({path}:{line})" if line else f"config file ({path})"

    def unknown(key: str, candidates: Iterable[str]) -> ConfigError:
        close = difflib.get_close_matches(key, list(candidates), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return fail(f"unknown setting '{key}'{hint}", key)

    known_keys = [spec.key for spec in SPECS] + ["prices"]
    for name, value in data.items():
        if name == "prices":
            if not isinstance(value, dict):
                raise fail(f"prices must be a table of models, got {show(value)}", "prices")
            prices = {}
            for model, price in value.items():
                try:
                    prices[model] = check_price(model, price)
                except Invalid as exc:
                    raise fail(exc.args[0], exc.args[1]) from None
                values[f"prices.{model}"] = (prices[model], source(f"prices.{model}"))
            values["prices"] = (prices, source("prices"))
            continue
        if name in TABLES:
            if not isinstance(value, dict):
                raise fail(f"{name} must be a table ([{name}]), got {show(value)}", name)
            items = [(f"{name}.{k}", v) for k, v in value.items()]
        else:
            items = [(name, value)]
        for key, v in items:
            spec = SPEC_BY_KEY.get(key)
            if spec is None:
                raise unknown(key, known_keys)
            try:
                values[key] = (check(spec, v), source(key))
            except Invalid as exc:
                raise fail(str(exc), key) from None
    return values


def _check_private(path: Path) -> None:
    """A file holding a key must not be readable by group or others."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        raise ConfigError(
            f"config error: {path} contains api_key but other users can read it (mode {mode:04o}); "
            f"run: chmod 600 {path} (or remove api_key and set ANTHROPIC_API_KEY instead)",
            path=path,
            key="api_key",
        )


def _config_path(env: Mapping[str, str], path: str | os.PathLike[str] | None) -> Path:
    """The file to read. ``$CLAUDE_TUI_CONFIG`` naming a missing file is an error: the user meant
    that file, and silently using the defaults instead hides the typo."""
    if path is not None:
        return Path(path).expanduser()
    file_path = paths.config_file(env)  # type: ignore[arg-type]
    if env.get(paths.CONFIG_ENV) and not file_path.exists():
        raise ConfigError(
            f"config error: {paths.CONFIG_ENV} names {file_path}, which does not exist (create it with: claude-tui config init)",
            path=file_path,
        )
    return file_path


# --------------------------------------------------------------------------------------------
# Precedence


def load_settings(
    cli_overrides: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    path: str | os.PathLike[str] | None = None,
    flag_names: Mapping[str, str] | None = None,
) -> Settings:
    """The effective settings: ``cli_overrides`` > ``env`` > the config file > defaults.

    ``cli_overrides`` maps dotted keys (``"model"``, ``"retry.max_attempts"``) to values; ``None``
    values are ignored, so argparse results with ``default=None`` can be passed straight in.
    ``flag_names`` names the flag each key came from (for ``source()``), if not the usual one.
    ``path`` defaults to ``$CLAUDE_TUI_CONFIG`` (which must exist) or ``<user_config_dir>/config.toml``
    (which need not). Raises ``ConfigError`` (one line) for anything unusable.
    """
    env = os.environ if env is None else env
    file_path = _config_path(env, path)

    chosen: dict[str, tuple[Any, str]] = {spec.key: (spec.default, "default") for spec in SPECS}
    chosen["prices"] = ({}, "default")
    chosen.update(_read_file(file_path))

    for spec in SPECS:
        if spec.env and env.get(spec.env):  # empty is unset
            try:
                chosen[spec.key] = (parse_text(spec, env[spec.env]), f"environment ({spec.env})")
            except Invalid as exc:
                shown = str(exc) if not spec.secret else f"{spec.key} is not usable"
                raise ConfigError(f"config error: environment variable {spec.env}: {shown}", key=spec.key) from None

    for key, value in _flatten(cli_overrides or {}).items():
        if value is None:
            continue
        given = SPEC_BY_KEY.get(key)
        if given is None:
            raise ValueError(f"unknown setting {key!r} in cli_overrides")
        flag = (flag_names or {}).get(key) or given.flag or "--" + key.replace(".", "-").replace("_", "-")
        try:
            if isinstance(value, str) and given.kind != "str":
                value = parse_text(given, value)
            chosen[key] = (check(given, value), f"command line ({flag})")
        except Invalid as exc:
            raise ConfigError(f"config error: command line {flag}: {exc}", key=key) from None

    top: dict[str, Any] = {}
    tables: dict[str, dict[str, Any]] = {name: {} for name in TABLES}
    for spec in SPECS:
        name, _, rest = spec.key.partition(".")
        if rest:
            tables[name][rest] = chosen[spec.key][0]
        else:
            top[name] = chosen[spec.key][0]
    return Settings(
        **top,
        **{name: TABLE_TYPES[name](**values) for name, values in tables.items()},
        prices=MappingProxyType(dict(chosen["prices"][0])),
        path=file_path,
        _sources=MappingProxyType({key: src for key, (_, src) in chosen.items() if src != "default"}),
    )


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and full in TABLES:
            out.update(_flatten(value, full + "."))
        else:
            out[full] = value
    return out
