"""Every setting, declared once: its name, type, default, range, meaning, env var and flag.

A setting is a field of ``Settings`` (or of one of its tables, ``RetrySettings``,
``SimulatorSettings``) declared with ``setting(...)``. Everything else is derived from these
fields: ``SPECS`` (read by validation, loading, ``config show``, ``config init``, the docs) and
the ``chat``/``run`` flags (``flags.py``). The type is the field's annotation (``str | None``
means optional: TOML has no null, absent means None).

Defaults are not restated here: the engine's (``RetryPolicy``, ``Job``, ``RequestPool``) and the
simulator's (``SimulatorConfig``) dataclass defaults are read from those classes, so changing one
there changes the app's default, ``config show`` and ``config init`` at once. Neither the engine
nor the simulator imports this package.

Adding a setting is one declaration:

* in an existing table, e.g. a retry setting the engine has as ``RetryPolicy.connect_patience``::

      connect_patience_seconds: float = setting(
          _RETRY["connect_patience"], "How long connection errors are retried, in all.",
          env="CLAUDE_TUI_CONNECT_PATIENCE", flag="--connect-patience", lo=0, hi=86400, policy="connect_patience")
    attempt_timeout_seconds: float = setting(
        _RETRY["attempt_timeout"], "Longest one attempt may take in all, pings included (a server that pings forever must end); then retried.",
        env="CLAUDE_TUI_ATTEMPT_TIMEOUT", flag="--attempt-timeout", lo=1, hi=86400, policy="attempt_timeout")

  (``policy=`` names the ``RetryPolicy`` field ``RetrySettings.policy()`` fills in);
* at the top level: the same, as a field of ``Settings``;
* a new table ``[limits]``: a frozen dataclass of ``setting(...)`` fields, plus one field
  ``limits: LimitsSettings = table(LimitsSettings)`` in ``Settings``.

``commands=`` says which subcommands get the flag (default: ``chat`` and ``run``); a setting
without ``flag=`` has none. This module imports neither Textual, nor the SDK, nor aiohttp.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, get_args, get_type_hints

from ..engine.job import DEFAULT_MAX_TOKENS, DEFAULT_MODEL, MIN_THINKING_BUDGET
from ..engine.pool import RequestPool
from ..engine.retry import RetryPolicy
from ..simulator.config import SimulatorConfig
from . import validate
from .validate import PriceSetting

__all__ = ["PRICES_HELP", "LimitSettings", "PriceSetting", "RetrySettings", "SPECS", "SPEC_BY_KEY", "Settings", "SimulatorSettings", "Spec", "TABLES", "setting", "table"]

# The engine's and the simulator's own defaults: the one place each is written.
_RETRY: Mapping[str, Any] = {f.name: f.default for f in dataclasses.fields(RetryPolicy)}
_POOL: Mapping[str, Any] = RequestPool.__init__.__kwdefaults__ or {}
_SIM: Mapping[str, Any] = {f.name: f.default for f in dataclasses.fields(SimulatorConfig)}

BOTH = ("chat", "run")
CHAT = ("chat",)


@dataclass(frozen=True, slots=True)
class Spec:
    """One setting, as derived from its declaration."""

    key: str  # dotted: "retry.max_attempts"
    kind: str  # "str" | "int" | "float" | "bool"
    default: Any
    help: str  # one line, for `config show`, the default file and --help
    env: str | None = None
    flag: str | None = None
    lo: float | None = None
    hi: float | None = None
    optional: bool = False  # None allowed
    secret: bool = False
    rule: Callable[[str, str], Any] | None = None  # extra check for strings (validate.url, ...)
    commands: tuple[str, ...] = BOTH  # the subcommands that get ``flag``


@dataclass(frozen=True, slots=True)
class _Declared:
    help: str
    env: str | None
    flag: str | None
    lo: float | None
    hi: float | None
    secret: bool
    rule: Callable[[str, str], Any] | None
    commands: tuple[str, ...]
    policy: str | None


def setting(
    default: Any,
    help: str,
    *,
    env: str | None = None,
    flag: str | None = None,
    lo: float | None = None,
    hi: float | None = None,
    secret: bool = False,
    rule: Callable[[str, str], Any] | None = None,
    commands: tuple[str, ...] = BOTH,
    policy: str | None = None,
) -> Any:
    """Declare a setting as a dataclass field (see the module docstring)."""
    meta = _Declared(help, env, flag, lo, hi, secret, rule, commands, policy)
    return field(default=default, repr=not secret, metadata={"setting": meta})


def table(cls: type) -> Any:
    """A ``[name]`` table of settings, declared as a field holding a dataclass of ``setting()`` fields."""
    return field(default_factory=cls, metadata={"table": cls})


# --------------------------------------------------------------------------------------------
# The declarations


@dataclass(frozen=True, slots=True)
class RetrySettings:
    max_attempts: int = setting(
        _RETRY["max_attempts"], "Attempts per request, the first included (1 = never retry).",
        env="CLAUDE_TUI_MAX_ATTEMPTS", flag="--max-attempts", lo=1, hi=100, policy="max_attempts")
    base_seconds: float = setting(
        _RETRY["base"], "Backoff base: the n-th retry waits up to base * 2^(n-1) s (full jitter).",
        flag="--retry-base", lo=0, hi=3600, policy="base")
    cap_seconds: float = setting(
        _RETRY["cap"], "Longest backoff between attempts; a server retry-after is honoured even above it.",
        flag="--retry-cap", lo=0, hi=3600, policy="cap")
    rate_limit_patience_seconds: float = setting(
        _RETRY["rate_limit_patience"], "A 429 with retry-after does not use up an attempt; a request waits on such 429s this long in all.",
        flag="--rate-limit-patience", lo=0, hi=86400, policy="rate_limit_patience")
    connect_patience_seconds: float = setting(
        _RETRY["connect_patience"], "Connection failures spend no attempt; a request keeps reconnecting this long in all.",
        env="CLAUDE_TUI_CONNECT_PATIENCE", flag="--connect-patience", lo=0, hi=86400, policy="connect_patience")
    attempt_timeout_seconds: float = setting(
        _RETRY["attempt_timeout"], "Longest one attempt may take in all, pings included (a server that pings forever must end); then retried.",
        env="CLAUDE_TUI_ATTEMPT_TIMEOUT", flag="--attempt-timeout", lo=1, hi=86400, policy="attempt_timeout")

    def policy(self) -> RetryPolicy:
        """The engine's ``RetryPolicy`` for these settings (each field names its policy field)."""
        return RetryPolicy(**{f.metadata["setting"].policy: getattr(self, f.name) for f in dataclasses.fields(self)})


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """The rate-limit budget (engine/budget.py): on or off, shared through Redis or not, caps."""

    limiter: str = setting(
        "on", 'Pace requests ahead of the rate limits ("on") or only react to 429s ("off").',
        env="CLAUDE_TUI_LIMITER", flag="--limiter", rule=validate.on_off)
    redis_url: str | None = setting(
        None, "Share one rate-limit budget through this Redis (redis://host:6379/0); unset: this process only.",
        env="CLAUDE_TUI_REDIS_URL", flag="--redis", rule=validate.redis_url)
    burst_seconds: float = setting(
        1.0, "First guess at the rate-limit buckets' size, in seconds of refill, used until the API's first reply "
             "shows its own (then learned: (requests-remaining + 1) × 60 ÷ RPM).", lo=0.1, hi=60)
    slow_start: bool = setting(
        False, "Also start a cold budget at a quarter of the limits, doubling each clean minute (off: the budget "
               "ramps only when the API answers 429 ramp_limit_exceeded; on costs ~30 % on a 3-minute run).")
    rpm: int | None = setting(None, "Requests per minute to pace at (unset: learned from the API's headers; set: a cap).", lo=1, hi=10**9)
    itpm: int | None = setting(None, "Input tokens per minute to pace at (unset: learned; set: a cap).", lo=1, hi=10**12)
    otpm: int | None = setting(None, "Output tokens per minute to pace at (unset: learned; set: a cap).", lo=1, hi=10**12)

    @property
    def caps(self) -> dict[str, int]:
        pairs = (("requests", self.rpm), ("input_tokens", self.itpm), ("output_tokens", self.otpm))
        return {dim: value for dim, value in pairs if value}


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """The embedded simulator's knobs; the names are ``SimulatorConfig``'s."""

    rpm: int = setting(_SIM["rpm"], "Simulator: requests per minute (0 = unlimited).", flag="--sim-rpm", lo=0, hi=10_000_000)
    itpm: int = setting(_SIM["itpm"], "Simulator: input tokens per minute (0 = unlimited).", flag="--sim-itpm", lo=0, hi=10**10)
    otpm: int = setting(_SIM["otpm"], "Simulator: output tokens per minute (0 = unlimited).", flag="--sim-otpm", lo=0, hi=10**10)
    ttft_ms: float = setting(_SIM["ttft_ms"], "Simulator: typical time to first token, in ms.", flag="--sim-ttft-ms", lo=0, hi=600_000)
    tps: float = setting(_SIM["tps"], "Simulator: output tokens per second (0 = as fast as possible).", flag="--sim-tps", lo=0, hi=1_000_000)
    reply_tokens: int = setting(_SIM["reply_tokens"], "Simulator: typical reply length in tokens.", flag="--sim-reply-tokens", lo=1, hi=1_000_000)
    seed: int = setting(_SIM["seed"], "Simulator: random seed, for repeatable runs.", flag="--seed", lo=-(2**63), hi=2**63 - 1)
    faults: str = setting("", 'Simulator: fault rates, e.g. "rate_limit=0.05,stall=0.01".', flag="--fail", rule=validate.faults)

    def fault_rates(self) -> dict[str, float]:
        from ..simulator.config import parse_faults

        return parse_faults(self.faults)

    def to_simulator_config(self, **overrides: Any) -> SimulatorConfig:
        values: dict[str, Any] = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["faults"] = self.fault_rates()
        values.update(overrides)
        return SimulatorConfig(**values)


PRICES_HELP = "Price overrides, USD per million tokens: [prices.\"MODEL\"] input, output, optional cache_write, cache_read."


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective settings (``load_settings()`` builds them; ``Settings()`` is all defaults)."""

    model: str = setting(DEFAULT_MODEL, "Model for new conversations and runs.", env="CLAUDE_TUI_MODEL", flag="--model", rule=validate.not_empty)
    max_tokens: int = setting(DEFAULT_MAX_TOKENS, "Maximum tokens in each reply.", env="CLAUDE_TUI_MAX_TOKENS", flag="--max-tokens", lo=1, hi=1_000_000)
    system: str | None = setting(None, "System prompt for new conversations (unset: none).", env="CLAUDE_TUI_SYSTEM", flag="--system", rule=validate.empty_is_none)
    thinking_budget: int | None = setting(
        None, "Extended-thinking budget in tokens for new chats (unset: thinking off; the API wants at least 1024).",
        env="CLAUDE_TUI_THINKING_BUDGET", flag="--thinking-budget", lo=MIN_THINKING_BUDGET, hi=1_000_000, commands=CHAT)
    concurrency: int = setting(_POOL["limit"], "Most requests in flight at once (the pool's limit).", env="CLAUDE_TUI_CONCURRENCY", flag="--concurrency", lo=1, hi=256)
    retry: RetrySettings = table(RetrySettings)
    stall_timeout: float = setting(
        _POOL["stall_timeout"], "Seconds without a byte before an attempt counts as stalled.",
        env="CLAUDE_TUI_STALL_TIMEOUT", flag="--stall-timeout", lo=0.1, hi=3600)
    theme: str = setting("claude-dark", "Colour theme of the terminal app.", env="CLAUDE_TUI_THEME", flag="--theme", rule=validate.not_empty, commands=CHAT)
    show_stats: bool = setting(True, "Show the live stats panel when the app starts.", env="CLAUDE_TUI_SHOW_STATS", flag="--stats", commands=CHAT)
    prompt_cache: bool = setting(
        True, "Mark each chat's stable prefix (system prompt, earlier turns) as a prompt-cache breakpoint once it is long enough to cache.",
        env="CLAUDE_TUI_PROMPT_CACHE", flag="--prompt-cache", commands=CHAT)
    log_prompts: bool = setting(
        False, "Also write prompt and reply text to the log file (off: only ids, timings, errors).", env="CLAUDE_TUI_LOG_PROMPTS", flag="--log-prompts")
    api_key: str | None = setting(
        None, "Anthropic API key; better set ANTHROPIC_API_KEY than write it here.", env="ANTHROPIC_API_KEY", secret=True, rule=validate.empty_is_none)
    base_url: str | None = setting(None, "API base URL (unset: https://api.anthropic.com).", env="ANTHROPIC_BASE_URL", flag="--base-url", rule=validate.url)
    limits: LimitSettings = table(LimitSettings)
    simulator: SimulatorSettings = table(SimulatorSettings)
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

    def price_table(self) -> Any:
        """The engine's ``PriceTable``: built-in list prices with this file's overrides on top."""
        from ..engine.pricing import Price, PriceTable

        return PriceTable({model: Price(p.input, p.output, p.cache_write, p.cache_read) for model, p in self.prices.items()})

    def retry_policy(self) -> RetryPolicy:
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
# Derived: SPECS


def _kind(hint: Any) -> tuple[str, bool]:
    """``int`` → ("int", False); ``str | None`` → ("str", True)."""
    args = get_args(hint)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    return base.__name__, optional


def _walk(cls: type, prefix: str = "") -> Iterator[Spec]:
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if "table" in f.metadata:
            yield from _walk(f.metadata["table"], f"{prefix}{f.name}.")
        elif "setting" in f.metadata:
            d: _Declared = f.metadata["setting"]
            kind, optional = _kind(hints[f.name])
            yield Spec(prefix + f.name, kind, f.default, d.help, d.env, d.flag, d.lo, d.hi, optional, d.secret, d.rule, d.commands)


def _tables(cls: type) -> dict[str, type]:
    return {f.name: f.metadata["table"] for f in dataclasses.fields(cls) if "table" in f.metadata}


SPECS: tuple[Spec, ...] = tuple(_walk(Settings))
SPEC_BY_KEY: Mapping[str, Spec] = MappingProxyType({spec.key: spec for spec in SPECS})
#: ``[name]`` tables and the dataclass each one fills.
TABLE_TYPES: Mapping[str, type] = MappingProxyType(_tables(Settings))
TABLES: tuple[str, ...] = tuple(TABLE_TYPES)

