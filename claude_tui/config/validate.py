"""Is a value usable for a setting? Types, ranges and the few string rules, each message one line.

``check(spec, value)`` takes a typed value (TOML, argparse); ``parse_text(spec, text)`` takes a
string (the environment, a flag). Both raise ``Invalid(message)``; the loader adds where it was.
The string rules (``url``, ``not_empty``, ...) are named in the declarations in ``specs.py``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .specs import Spec

PRICE_FIELDS = ("input", "output", "cache_write", "cache_read")


@dataclass(frozen=True, slots=True)
class PriceSetting:
    """USD per million tokens (same meaning as ``engine.pricing.Price``); ``check_price`` makes them."""

    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None


class Invalid(Exception):
    """A value a setting cannot take; ``args[0]`` is the message, ``args[1]`` (if any) the key."""


# -- the string rules a declaration can name (``rule=``)


def not_empty(key: str, value: str) -> str:
    if not value.strip():
        raise Invalid(f"{key} must not be empty")
    return value


def empty_is_none(key: str, value: str) -> str | None:
    return value or None


def url(key: str, value: str) -> str | None:
    if not value:
        return None
    if not re.match(r"^https?://\S+$", value):
        raise Invalid(f"{key} must start with http:// or https://, got {show(value)}")
    return value.rstrip("/")


def on_off(key: str, value: str) -> str:
    if value not in ("on", "off"):
        raise Invalid(f"{key} must be on or off, got {show(value)}")
    return value


def redis_url(key: str, value: str) -> str | None:
    if not value:
        return None
    if not re.match(r"^(redis|rediss|unix)://\S+$", value):
        raise Invalid(f"{key} must start with redis://, rediss:// or unix://")  # the URL may hold a password: not shown
    return value


def faults(key: str, value: str) -> str:
    if value.strip():
        from ..simulator.config import parse_faults  # aiohttp-free, imported only when there are faults

        try:
            parse_faults(value)
        except ValueError as exc:
            raise Invalid(f"{key}: {exc}") from None
    return value


# -- types and ranges


def show(value: Any) -> str:
    """A value as the user wrote it (TOML-ish)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def expectation(spec: Spec) -> str:
    noun = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}[spec.kind]
    if spec.kind in ("int", "float") and spec.lo is not None:
        if spec.hi is not None and spec.hi < 10**9:
            return f"{noun} from {_num(spec.lo)} to {_num(spec.hi)}"
        return f"{noun} of at least {_num(spec.lo)}"
    return noun


def check(spec: Spec, value: Any) -> Any:
    """Validate a typed value (from TOML or from the command line); raise Invalid(message)."""
    bad = Invalid(f"{spec.key} must be {expectation(spec)}, got {show(value)}")
    if value is None and spec.optional:
        return None
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise bad
        return spec.rule(spec.key, value) if spec.rule else value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad
    if spec.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise bad
            value = int(value)
    else:
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            raise bad
    if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
        raise bad
    return value


def parse_text(spec: Spec, text: str) -> Any:
    """A value from the environment or a flag (always a string)."""
    raw = text.strip()
    if spec.kind == "str":
        return check(spec, text)
    if spec.kind == "bool":
        low = raw.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise Invalid(f"{spec.key} must be true or false (1/0, yes/no), got {text!r}")
    try:
        number: Any = int(raw) if spec.kind == "int" else float(raw)
    except ValueError:
        raise Invalid(f"{spec.key} must be {expectation(spec)}, got {text!r}") from None
    return check(spec, number)


def check_price(model: str, value: Any) -> PriceSetting:
    if not isinstance(value, dict):
        raise Invalid(f"prices.{model} must be a table with input and output (USD per million tokens), got {show(value)}", f"prices.{model}")
    for name in value:
        if name not in PRICE_FIELDS:
            raise Invalid(f"unknown setting 'prices.{model}.{name}' (expected {', '.join(PRICE_FIELDS)})", f"prices.{model}.{name}")
    for name in ("input", "output"):
        if name not in value:
            raise Invalid(f"prices.{model} needs {name} (USD per million tokens)", f"prices.{model}")
    numbers: dict[str, float] = {}
    for name, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or v < 0 or math.isinf(v):
            raise Invalid(f"prices.{model}.{name} must be a number of at least 0 (USD per million tokens), got {show(v)}", f"prices.{model}.{name}")
        numbers[name] = float(v)
    return PriceSetting(**numbers)
