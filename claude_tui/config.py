"""Settings: command-line flag > environment > config file (TOML) > built-in default.

    settings = load_settings({"model": ns.model, "concurrency": ns.concurrency})
    settings.concurrency, settings.retry.max_attempts, settings.simulator.rpm
    settings.source("retry.max_attempts")   # "default" | "config file (PATH:LINE)" | ...

Every setting is described once, in ``SPECS``; validation, ``config show``, ``config init`` and the
docs all read that table. A bad file raises ``ConfigError`` whose ``str()`` is one line naming the
file, the line and the key. This module imports neither Textual nor the engine (it stays fast).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from . import paths

__all__ = [
    "ConfigError",
    "PriceSetting",
    "RetrySettings",
    "Settings",
    "SimulatorSettings",
    "SPECS",
    "Spec",
    "default_config_text",
    "load_settings",
    "write_default_config",
]


class ConfigError(Exception):
    """A setting could not be used. ``str(err)`` is a single line, ready to print."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None, key: str | None = None) -> None:
        self.message = " ".join(str(message).split())  # one line, always
        self.path = path
        self.line = line
        self.key = key
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------
# The settings, described once


@dataclass(frozen=True, slots=True)
class Spec:
    key: str  # dotted: "retry.max_attempts"
    kind: str  # "str" | "int" | "float" | "bool"
    default: Any
    help: str  # one line, for `config show` and the default file
    env: str | None = None
    flag: str | None = None
    lo: float | None = None
    hi: float | None = None
    optional: bool = False  # None allowed (TOML has no null: absent means None)
    secret: bool = False


SPECS: tuple[Spec, ...] = (
    Spec("model", "str", "claude-sonnet-4-6", "Model for new conversations and runs.", "CLAUDE_TUI_MODEL", "--model"),
    Spec("max_tokens", "int", 1024, "Maximum tokens in each reply.", "CLAUDE_TUI_MAX_TOKENS", "--max-tokens", 1, 1_000_000),
    Spec("system", "str", None, "System prompt for new conversations (unset: none).", "CLAUDE_TUI_SYSTEM", "--system", optional=True),
    Spec("concurrency", "int", 5, "Most requests in flight at once (the pool's limit).", "CLAUDE_TUI_CONCURRENCY", "--concurrency", 1, 256),
    Spec("retry.max_attempts", "int", 5, "Attempts per request, the first included (1 = never retry).", "CLAUDE_TUI_MAX_ATTEMPTS", "--max-attempts", 1, 100),
    Spec("retry.base_seconds", "float", 0.5, "Backoff base: the n-th retry waits up to base * 2^(n-1) s (full jitter).", None, "--retry-base", 0, 3600),
    Spec("retry.cap_seconds", "float", 30.0, "Longest backoff between attempts; a server retry-after is honoured even above it.", None, "--retry-cap", 0, 3600),
    Spec("retry.rate_limit_patience_seconds", "float", 600.0, "A 429 with retry-after does not use up an attempt; a request waits on such 429s this long in all.", None, "--rate-limit-patience", 0, 86400),
    Spec("stall_timeout", "float", 30.0, "Seconds without a byte before an attempt counts as stalled.", "CLAUDE_TUI_STALL_TIMEOUT", "--stall-timeout", 0.1, 3600),
    Spec("theme", "str", "claude-dark", "Colour theme of the terminal app.", "CLAUDE_TUI_THEME", "--theme"),
    Spec("show_stats", "bool", True, "Show the live stats panel when the app starts.", "CLAUDE_TUI_SHOW_STATS", "--stats"),
    Spec("log_prompts", "bool", False, "Also write prompt and reply text to the log file (off: only ids, timings, errors).", "CLAUDE_TUI_LOG_PROMPTS", "--log-prompts"),
    Spec("api_key", "str", None, "Anthropic API key; better set ANTHROPIC_API_KEY than write it here.", "ANTHROPIC_API_KEY", None, optional=True, secret=True),
    Spec("base_url", "str", None, "API base URL (unset: https://api.anthropic.com).", "ANTHROPIC_BASE_URL", "--base-url", optional=True),
    Spec("limits.limiter", "str", "on", 'Pace requests ahead of the rate limits ("on") or only react to 429s ("off").', "CLAUDE_TUI_LIMITER", "--limiter"),
    Spec("limits.redis_url", "str", None, "Share one rate-limit budget through this Redis (redis://host:6379/0); unset: this process only.", "CLAUDE_TUI_REDIS_URL", "--redis", optional=True),
    Spec("limits.burst_seconds", "float", 1.0, "Rate-limit buckets hold this many seconds of refill (the API may enforce 60 RPM as 1 a second).", None, None, 0.1, 60),
    Spec("limits.slow_start", "bool", True, "Ramp a cold budget from a quarter of the limits, doubling each clean minute (the API punishes sharp increases).", None, None),
    Spec("limits.rpm", "int", None, "Requests per minute to pace at (unset: learned from the API's headers; set: a cap).", None, None, 1, 10**9, optional=True),
    Spec("limits.itpm", "int", None, "Input tokens per minute to pace at (unset: learned; set: a cap).", None, None, 1, 10**12, optional=True),
    Spec("limits.otpm", "int", None, "Output tokens per minute to pace at (unset: learned; set: a cap).", None, None, 1, 10**12, optional=True),
    Spec("simulator.rpm", "int", 50, "Simulator: requests per minute (0 = unlimited).", None, "--sim-rpm", 0, 10_000_000),
    Spec("simulator.itpm", "int", 100_000, "Simulator: input tokens per minute (0 = unlimited).", None, "--sim-itpm", 0, 10**10),
    Spec("simulator.otpm", "int", 20_000, "Simulator: output tokens per minute (0 = unlimited).", None, "--sim-otpm", 0, 10**10),
    Spec("simulator.ttft_ms", "float", 500.0, "Simulator: typical time to first token, in ms.", None, "--sim-ttft-ms", 0, 600_000),
    Spec("simulator.tps", "float", 70.0, "Simulator: output tokens per second (0 = as fast as possible).", None, "--sim-tps", 0, 1_000_000),
    Spec("simulator.reply_tokens", "int", 300, "Simulator: typical reply length in tokens.", None, "--sim-reply-tokens", 1, 1_000_000),
    Spec("simulator.seed", "int", 0, "Simulator: random seed, for repeatable runs.", None, "--seed", -(2**63), 2**63 - 1),
    Spec("simulator.faults", "str", "", 'Simulator: fault rates, e.g. "rate_limit=0.05,stall=0.01".', None, "--fail"),
)

SPEC_BY_KEY: Mapping[str, Spec] = MappingProxyType({spec.key: spec for spec in SPECS})
TABLES = ("retry", "limits", "simulator")
PRICES_HELP = "Price overrides, USD per million tokens: [prices.\"MODEL\"] input, output, optional cache_write, cache_read."
_PRICE_FIELDS = ("input", "output", "cache_write", "cache_read")


# --------------------------------------------------------------------------------------------
# The settings object


@dataclass(frozen=True, slots=True)
class RetrySettings:
    max_attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    rate_limit_patience_seconds: float = 600.0

    def policy(self) -> Any:
        """The engine's ``RetryPolicy`` for these settings."""
        from .engine.retry import RetryPolicy

        return RetryPolicy(
            max_attempts=self.max_attempts,
            base=self.base_seconds,
            cap=self.cap_seconds,
            rate_limit_patience=self.rate_limit_patience_seconds,
        )


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """The rate-limit budget (engine/budget.py): on or off, shared through Redis or not, caps."""

    limiter: str = "on"
    redis_url: str | None = None
    burst_seconds: float = 1.0
    slow_start: bool = True
    rpm: int | None = None
    itpm: int | None = None
    otpm: int | None = None

    @property
    def caps(self) -> dict[str, int]:
        pairs = (("requests", self.rpm), ("input_tokens", self.itpm), ("output_tokens", self.otpm))
        return {dim: value for dim, value in pairs if value}


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    rpm: int = 50
    itpm: int = 100_000
    otpm: int = 20_000
    ttft_ms: float = 500.0
    tps: float = 70.0
    reply_tokens: int = 300
    seed: int = 0
    faults: str = ""

    def fault_rates(self) -> dict[str, float]:
        from .simulator.config import parse_faults

        return parse_faults(self.faults)

    def to_simulator_config(self, **overrides: Any) -> Any:
        """A ``claude_tui.simulator.config.SimulatorConfig`` (imported lazily)."""
        from .simulator.config import SimulatorConfig

        values: dict[str, Any] = dict(
            rpm=self.rpm, itpm=self.itpm, otpm=self.otpm, ttft_ms=self.ttft_ms, tps=self.tps,
            reply_tokens=self.reply_tokens, seed=self.seed, faults=self.fault_rates(),
        )
        values.update(overrides)
        return SimulatorConfig(**values)


@dataclass(frozen=True, slots=True)
class PriceSetting:
    """USD per million tokens (same meaning as ``engine.pricing.Price``)."""

    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    model: str = "claude-sonnet-4-6"
    max_tokens: int = 1024
    system: str | None = None
    concurrency: int = 5
    retry: RetrySettings = field(default_factory=RetrySettings)
    stall_timeout: float = 30.0
    theme: str = "claude-dark"
    show_stats: bool = True
    log_prompts: bool = False
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    prices: Mapping[str, PriceSetting] = field(default_factory=lambda: MappingProxyType({}))
    #: The config file that was (or would have been) read.
    path: Path | None = None
    _sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)

    def get(self, key: str) -> Any:
        """A setting by dotted key: ``settings.get("retry.max_attempts")``."""
        if key.startswith("prices.") and key[7:] in self.prices:
            return self.prices[key[7:]]
        obj: Any = self
        for part in key.split("."):
            if part.startswith("_") or not hasattr(obj, part):
                raise KeyError(key)
            obj = getattr(obj, part)
        return obj

    def source(self, key: str) -> str:
        """Where a setting came from: ``"default"``, ``"config file (PATH:LINE)"``,
        ``"environment (VAR)"`` or ``"command line (--flag)"``."""
        if key in self._sources:
            return self._sources[key]
        if key in SPEC_BY_KEY or key == "prices" or key.startswith("prices."):
            return "default"
        raise KeyError(key)

    @property
    def sources(self) -> Mapping[str, str]:
        return MappingProxyType({spec.key: self.source(spec.key) for spec in SPECS} | {"prices": self.source("prices")})

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key)

    def price_table(self) -> Any:
        """The engine's ``PriceTable``: built-in list prices with this file's overrides on top."""
        from .engine.pricing import Price, PriceTable

        return PriceTable({model: Price(p.input, p.output, p.cache_write, p.cache_read) for model, p in self.prices.items()})

    def retry_policy(self) -> Any:
        return self.retry.policy()

    def request_options(self) -> dict[str, Any]:
        """What every front end hands the engine: the request defaults and the pool's settings."""
        return dict(
            model=self.model,
            max_tokens=self.max_tokens,
            system=self.system,
            concurrency=self.concurrency,
            policy=self.retry_policy(),
            stall_timeout=self.stall_timeout,
            prices=self.price_table(),
        )

    def as_dict(self, *, redact: bool = True) -> dict[str, Any]:
        """Plain nested data (the API key as ``"set"``/``None`` unless ``redact=False``)."""
        out: dict[str, Any] = {}
        for spec in SPECS:
            value = self.get(spec.key)
            if spec.secret and redact:
                value = "set" if value else None
            _put(out, spec.key, value)
        out["prices"] = {
            model: {k: v for k, v in (("input", p.input), ("output", p.output), ("cache_write", p.cache_write), ("cache_read", p.cache_read)) if v is not None}
            for model, p in self.prices.items()
        }
        return out


def _put(tree: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


# --------------------------------------------------------------------------------------------
# Validation


class _Invalid(Exception):
    pass


def _show(value: Any) -> str:
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


def _expectation(spec: Spec) -> str:
    noun = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}[spec.kind]
    if spec.kind in ("int", "float") and spec.lo is not None:
        if spec.hi is not None and spec.hi < 10**9:
            return f"{noun} from {_num(spec.lo)} to {_num(spec.hi)}"
        return f"{noun} of at least {_num(spec.lo)}"
    return noun


def _check(spec: Spec, value: Any) -> Any:
    """Validate a typed value (from TOML or from the command line); raise _Invalid(message)."""
    bad = _Invalid(f"{spec.key} must be {_expectation(spec)}, got {_show(value)}")
    if value is None and spec.optional:
        return None
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise bad
        return _check_str(spec, value)
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


def _check_str(spec: Spec, value: str) -> str | None:
    if spec.key in ("model", "theme") and not value.strip():
        raise _Invalid(f"{spec.key} must not be empty")
    if spec.key == "base_url":
        if not value:
            return None
        if not re.match(r"^https?://\S+$", value):
            raise _Invalid(f"base_url must start with http:// or https://, got {_show(value)}")
        return value.rstrip("/")
    if spec.key == "system" and value == "":
        return None
    if spec.key == "limits.limiter" and value not in ("on", "off"):
        raise _Invalid(f"limits.limiter must be on or off, got {_show(value)}")
    if spec.key == "limits.redis_url":
        if not value:
            return None
        if not re.match(r"^(redis|rediss|unix)://\S+$", value):
            raise _Invalid("limits.redis_url must start with redis://, rediss:// or unix://")  # the URL may hold a password: not shown
    if spec.key == "simulator.faults" and value.strip():
        from .simulator.config import parse_faults  # aiohttp-free, imported only when there are faults

        try:
            parse_faults(value)
        except ValueError as exc:
            raise _Invalid(f"simulator.faults: {exc}") from None
    return value


def _parse_text(spec: Spec, text: str) -> Any:
    """A value from the environment (always a string)."""
    raw = text.strip()
    if spec.kind == "str":
        return _check(spec, text)
    if spec.kind == "bool":
        low = raw.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise _Invalid(f"{spec.key} must be true or false (1/0, yes/no), got {text!r}")
    try:
        number: Any = int(raw) if spec.kind == "int" else float(raw)
    except ValueError:
        raise _Invalid(f"{spec.key} must be {_expectation(spec)}, got {text!r}") from None
    return _check(spec, number)


def _check_price(model: str, value: Any) -> PriceSetting:
    if not isinstance(value, dict):
        raise _Invalid(f"prices.{model} must be a table with input and output (USD per million tokens), got {_show(value)}", f"prices.{model}")
    for name in value:
        if name not in _PRICE_FIELDS:
            raise _Invalid(f"unknown setting 'prices.{model}.{name}' (expected {', '.join(_PRICE_FIELDS)})", f"prices.{model}.{name}")
    for name in ("input", "output"):
        if name not in value:
            raise _Invalid(f"prices.{model} needs {name} (USD per million tokens)", f"prices.{model}")
    numbers: dict[str, float] = {}
    for name, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or v < 0 or math.isinf(v):
            raise _Invalid(f"prices.{model}.{name} must be a number of at least 0 (USD per million tokens), got {_show(v)}", f"prices.{model}.{name}")
        numbers[name] = float(v)
    return PriceSetting(**numbers)


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
# Loading


def _where(path: Path, line: int | None) -> str:
    return f"{path} line {line}" if line else str(path)


def _read_file(path: Path) -> tuple[dict[str, Any], dict[str, tuple[Any, str]]]:
    """Parse and validate the file: (raw data, {key: (value, source)})."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, {}
    except IsADirectoryError:
        raise ConfigError(f"config error: {path}: is a directory, not a file", path=path) from None
    except OSError as exc:
        raise ConfigError(f"config error: {path}: cannot read it ({exc.strerror or exc})", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"config error: {path} line {line}: not valid UTF-8 text", path=path, line=line) from None
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
                raise fail(f"prices must be a table of models, got {_show(value)}", "prices")
            prices = {}
            for model, price in value.items():
                try:
                    prices[model] = _check_price(model, price)
                except _Invalid as exc:
                    raise fail(exc.args[0], exc.args[1]) from None
                values[f"prices.{model}"] = (prices[model], source(f"prices.{model}"))
            values["prices"] = (prices, source("prices"))
            continue
        if name in TABLES:
            if not isinstance(value, dict):
                raise fail(f"{name} must be a table ([{name}]), got {_show(value)}", name)
            items = [(f"{name}.{k}", v) for k, v in value.items()]
        else:
            items = [(name, value)]
        for key, v in items:
            spec = SPEC_BY_KEY.get(key)
            if spec is None:
                raise unknown(key, known_keys)
            try:
                values[key] = (_check(spec, v), source(key))
            except _Invalid as exc:
                raise fail(str(exc), key) from None
    return data, values


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
    ``path`` defaults to ``$CLAUDE_TUI_CONFIG`` or ``<user_config_dir>/config.toml``; a missing file
    is not an error. Raises ``ConfigError`` (one line) for anything unusable.
    """
    env = os.environ if env is None else env
    file_path = Path(path).expanduser() if path is not None else paths.config_file(env)  # type: ignore[arg-type]

    chosen: dict[str, tuple[Any, str]] = {spec.key: (spec.default, "default") for spec in SPECS}
    chosen["prices"] = ({}, "default")

    _, from_file = _read_file(file_path)
    chosen.update(from_file)

    for spec in SPECS:
        if spec.env and env.get(spec.env):
            try:
                chosen[spec.key] = (_parse_text(spec, env[spec.env]), f"environment ({spec.env})")
            except _Invalid as exc:
                shown = str(exc) if not spec.secret else f"{spec.key} is not usable"
                raise ConfigError(f"config error: environment variable {spec.env}: {shown}", key=spec.key) from None

    for key, value in _flatten(cli_overrides or {}).items():
        if value is None:
            continue
        spec = SPEC_BY_KEY.get(key)
        if spec is None:
            raise ValueError(f"unknown setting {key!r} in cli_overrides")
        flag = (flag_names or {}).get(key) or spec.flag or "--" + key.replace(".", "-").replace("_", "-")
        try:
            if isinstance(value, str) and spec.kind != "str":
                value = _parse_text(spec, value)
            chosen[key] = (_check(spec, value), f"command line ({flag})")
        except _Invalid as exc:
            raise ConfigError(f"config error: command line {flag}: {exc}", key=key) from None

    def val(key: str) -> Any:
        return chosen[key][0]

    sources = {key: src for key, (_, src) in chosen.items() if src != "default"}
    return Settings(
        model=val("model"),
        max_tokens=val("max_tokens"),
        system=val("system"),
        concurrency=val("concurrency"),
        retry=RetrySettings(
            val("retry.max_attempts"), val("retry.base_seconds"), val("retry.cap_seconds"), val("retry.rate_limit_patience_seconds")
        ),
        stall_timeout=val("stall_timeout"),
        theme=val("theme"),
        show_stats=val("show_stats"),
        log_prompts=val("log_prompts"),
        api_key=val("api_key"),
        base_url=val("base_url"),
        simulator=SimulatorSettings(**{spec.key.split(".", 1)[1]: val(spec.key) for spec in SPECS if spec.key.startswith("simulator.")}),
        limits=LimitSettings(**{spec.key.split(".", 1)[1]: val(spec.key) for spec in SPECS if spec.key.startswith("limits.")}),
        prices=MappingProxyType(dict(val("prices"))),
        path=file_path,
        _sources=MappingProxyType(sources),
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


# --------------------------------------------------------------------------------------------
# The default file


def _toml_value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return _show(value)


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


# --------------------------------------------------------------------------------------------
# The command line


def flag_dest(flag: str) -> str:
    """argparse's dest for a flag: ``--max-tokens`` → ``max_tokens``."""
    return flag.lstrip("-").replace("-", "_")


def overrides_from_namespace(ns: Any) -> dict[str, Any]:
    """``cli_overrides`` for ``load_settings`` from an argparse namespace.

    For every setting with a flag in ``SPECS`` (``--model``, ``--max-tokens``, ``--concurrency``,
    ``--max-attempts``, ...), takes ``ns.<dest>`` if present and not None. Give such options
    ``default=None`` (booleans: ``action=argparse.BooleanOptionalAction, default=None``) so an
    unset flag does not hide the environment or the file.
    """
    out: dict[str, Any] = {}
    for spec in SPECS:
        if spec.flag:
            value = getattr(ns, flag_dest(spec.flag), None)
            if value is not None:
                out[spec.key] = value
    return out
