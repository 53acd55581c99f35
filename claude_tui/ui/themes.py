"""Theme files: TOML mapping onto ``textual.theme.Theme``, shipped in ``themes/`` and read from the user's dir.

A bad file never crashes the app: loading returns the themes it could read plus one error line per bad file,
and the app shows those as notifications.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "claude-dark"

_COLOR_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background", "surface", "panel", "boost")
_ALLOWED = frozenset(_COLOR_FIELDS) | {"name", "dark", "variables", "luminosity_spread", "text_alpha"}


class ThemeFileError(ValueError):
    """A theme file that cannot be used, with a one-line reason."""


@dataclass(frozen=True, slots=True)
class ThemeLoad:
    themes: list[Theme]
    errors: list[str]


def builtin_theme_dir() -> Path | None:
    """``claude_tui/themes`` inside an installed wheel, else the repository's top-level ``themes/``."""
    try:
        from importlib.resources import files

        packaged = files("claude_tui") / "themes"
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, TypeError, OSError):  # pragma: no cover - odd importers
        pass
    repo = Path(__file__).resolve().parents[2] / "themes"
    return repo if repo.is_dir() else None


def theme_from_mapping(data: dict[str, Any], *, default_name: str) -> Theme:
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise ThemeFileError(f"unknown field(s): {', '.join(unknown)}")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError("'name' must be a non-empty string")
    if "primary" not in data:
        raise ThemeFileError("'primary' is required")
    kwargs: dict[str, Any] = {"name": name.strip()}
    for field in _COLOR_FIELDS:
        if field in data:
            value = data[field]
            if not isinstance(value, str):
                raise ThemeFileError(f"{field!r} must be a colour string")
            try:
                Color.parse(value)
            except ColorParseError:
                raise ThemeFileError(f"{field!r}: {value!r} is not a colour") from None
            kwargs[field] = value
    if "dark" in data:
        if not isinstance(data["dark"], bool):
            raise ThemeFileError("'dark' must be true or false")
        kwargs["dark"] = data["dark"]
    for field in ("luminosity_spread", "text_alpha"):
        if field in data:
            if not isinstance(data[field], (int, float)) or isinstance(data[field], bool):
                raise ThemeFileError(f"{field!r} must be a number")
            kwargs[field] = float(data[field])
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in variables.items()):
        raise ThemeFileError("'variables' must be a table of strings")
    kwargs["variables"] = dict(variables)
    return Theme(**kwargs)


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ThemeFileError(f"cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ThemeFileError(f"not valid TOML: {error}") from None
    return theme_from_mapping(data, default_name=path.stem)


def load_theme_dir(directory: Path | None) -> ThemeLoad:
    """Every ``*.toml`` in ``directory`` (sorted); a missing directory is simply empty."""
    themes: list[Theme] = []
    errors: list[str] = []
    if directory is None or not directory.is_dir():
        return ThemeLoad(themes, errors)
    for path in sorted(directory.glob("*.toml")):
        try:
            themes.append(load_theme_file(path))
        except ThemeFileError as error:
            errors.append(f"theme {path.name}: {error}")
    return ThemeLoad(themes, errors)


def load_all(user_dir: Path | None, *, extra_dirs: Iterable[Path] = ()) -> ThemeLoad:
    """Shipped themes first, then the user's (a user theme with the same name wins)."""
    themes: list[Theme] = []
    errors: list[str] = []
    for directory in (builtin_theme_dir(), *extra_dirs, user_dir):
        loaded = load_theme_dir(directory)
        themes.extend(loaded.themes)
        errors.extend(loaded.errors)
    return ThemeLoad(themes, errors)
