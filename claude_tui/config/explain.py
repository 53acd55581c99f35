"""The settings explained to a person: ``config show`` (effective values and where each came from)
and ``config init`` (a file that sets nothing, every setting commented out at its default)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import paths
from .specs import PRICES_HELP, SPECS, TABLES, Settings, Spec
from .validate import show


def _toml_value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return show(value)


def default_config_text() -> str:
    """A config file that sets nothing: every setting commented out at its default, explained."""
    out = [
        "# claude-tui configuration.",
        "# Precedence: command-line flag > environment variable > this file > built-in default.",
        "# Uncomment a line to change a setting; `claude-tui config show` prints the effective values.",
        "",
    ]

    def emit(spec: Spec) -> None:
        name = spec.key.split(".", 1)[1] if "." in spec.key else spec.key
        out.append(f"# {spec.help}" + (f"  (env: {spec.env})" if spec.env else ""))
        if spec.secret:
            out.append("# Keeping the key in the environment is safer; if it is here, this file must be chmod 600.")
            out.append(f'# {name} = "sk-ant-..."')
        elif spec.default is None:
            out.append(f'# {name} = ""')
        else:
            out.append(f"# {name} = {_toml_value(spec.default)}")
        out.append("")

    for spec in SPECS:
        if "." not in spec.key:
            emit(spec)
    for table in TABLES:
        out.append(f"[{table}]")
        for spec in SPECS:
            if spec.key.startswith(table + "."):
                emit(spec)
    out += [
        f"# {PRICES_HELP}",
        '# [prices."claude-sonnet-4-6"]',
        "# input = 3.0",
        "# output = 15.0",
        "# cache_write = 3.75",
        "# cache_read = 0.3",
        "",
    ]
    return "\n".join(out)


def write_default_config(path: str | os.PathLike[str] | None = None, *, force: bool = False) -> Path:
    """Write ``default_config_text()`` to ``path`` with mode 0600.

    Raises ``FileExistsError`` if the file exists and ``force`` is false.
    """
    target = Path(path).expanduser() if path is not None else paths.config_file()
    if target.parent == paths.config_dir():
        paths.ensure_config_dir()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    data = default_config_text().encode("utf-8")
    if not force:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    else:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)  # umask may have narrowed it; never widen past 0600
        fh.write(data)
    if force:
        os.replace(tmp, target)
    return target


def _value(spec: Spec, value: Any) -> str:
    if spec.secret:
        return "set" if value else "not set"
    if value is None:
        return "(unset)"
    if isinstance(value, float):
        return f"{value:g}"
    return show(value)


def render_settings(settings: Settings) -> str:
    """The text of ``config show``: value, source and a one-line explanation per setting."""
    path = settings.path
    exists = path is not None and path.exists()
    lines = [f"config file: {path}" + ("" if exists else "  (not created; `claude-tui config init` writes one)"), ""]
    rows = [(spec.key, _value(spec, settings.get(spec.key)), settings.source(spec.key), spec.help) for spec in SPECS]
    if settings.prices:
        price_text = ", ".join(f"{model}: in {p.input:g}/out {p.output:g}" for model, p in sorted(settings.prices.items()))
    else:
        price_text = "(built-in list prices)"
    rows.append(("prices", price_text, settings.source("prices"), PRICES_HELP))
    width = max(len(f"{key} = {value}") for key, value, _, _ in rows)
    width = min(width, 48)
    for key, value, source, help_text in rows:
        lines.append(f"{f'{key} = {value}':<{width}}  [{source}]")
        lines.append(f"    {help_text}")
    return "\n".join(lines) + "\n"
