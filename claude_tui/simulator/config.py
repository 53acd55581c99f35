"""Simulator settings and the fault-spec parser.

Kept free of aiohttp so the command line can build a config (and report bad flags)
without importing the server.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field

#: Faults answered with an HTTP error status before any reply bytes: kind -> (status, error.type,
#: message). Statuses and types from the API's errors page and the SDK's exception table.
STATUS_FAULTS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "rate_limit_error",
                   "Number of request tokens has exceeded your per-minute rate limit (simulated fault)"),
    "spend_limit": (429, "rate_limit_error", "You have reached your specified API usage limits. "
                    "You will regain access on the first day of next month (simulated fault)"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "api_error": (500, "api_error", "Internal server error"),
    "billing": (402, "billing_error", "Your credit balance is too low to access the Anthropic API (simulated fault)"),
    "permission": (403, "permission_error",
                   "Your API key does not have permission to use the specified resource (simulated fault)"),
    "timeout": (408, "timeout_error", "Request timed out (simulated fault)"),
    "conflict": (409, "conflict_error", "Conflict: the request collided with another (simulated fault)"),
    "unavailable": (503, "api_error", "Service unavailable (simulated fault)"),
    "gateway_timeout": (504, "timeout_error", "Gateway timeout (simulated fault)"),
}
#: Faults decided before any response bytes: an error status, or ``blackhole`` (nothing ever).
PRE_RESPONSE_FAULTS: tuple[str, ...] = (*STATUS_FAULTS, "blackhole")
#: Faults that strike a stream after some text has gone out (``reset``: a TCP RST).
STREAM_FAULTS: tuple[str, ...] = ("stream_error", "disconnect", "reset", "stall", "truncate")
#: A reply that ends early with this ``stop_reason`` (the text so far kept).
STOP_FAULTS: tuple[str, ...] = ("refusal", "pause_turn")
#: Every fault kind `inject()` and `--fail` understand.
FAULT_KINDS: tuple[str, ...] = PRE_RESPONSE_FAULTS + STREAM_FAULTS + STOP_FAULTS
#: Per-request outcomes of a Message Batch (`--fail batch_errored=0.05`); kept out of FaultPlan.
BATCH_FAULTS: tuple[str, ...] = ("batch_errored", "batch_expired")


@dataclass(slots=True)
class SimulatorConfig:
    """How the simulator behaves. Limits of 0 or None mean unlimited; ``port=0`` picks a free port.

    ``burst`` is the bucket capacity in *seconds of refill*: 5 (the default) lets five seconds'
    worth go at once; 1 enforces a per-minute limit per second, as the API may; 60 a whole minute.
    """

    host: str = "127.0.0.1"
    port: int = 0
    rpm: int | None = 50
    itpm: int | None = 100_000
    otpm: int | None = 20_000
    burst: float = 5.0  # bucket capacity in seconds of refill (a few seconds' worth, as the API enforces)
    ttft_ms: float = 500.0
    tps: float = 70.0  # output tokens per second; 0 = as fast as possible
    reply_tokens: int = 300
    fixed_length: bool = False
    fixed_latency_ms: float | None = None  # whole reply (TTFT included) takes exactly this long
    jitter: float = 0.3  # ttft and tps are scaled by a uniform factor in [1-jitter, 1+jitter]
    seed: int = 0
    faults: dict[str, float] = field(default_factory=dict)
    stall_seconds: float = 60.0
    api_keys: frozenset[str] | set[str] = field(default_factory=frozenset)
    ping_seconds: float = 5.0  # interval of `ping` events while a stream waits
    fault_retry_after: float = 1.0  # retry-after (s) of a random or injected `rate_limit` fault
    # A connection must finish its request head this soon after it opens (or after its last
    # response); a request its body. Without them, 300 clients trickling a byte each held 300
    # connections open for as long as they liked.
    header_timeout: float = 15.0
    body_timeout: float = 60.0
    batch_seconds: float = 5.0  # how long a Message Batch takes to process (the API: minutes to 24 h)
    batch_faults: dict[str, float] = field(default_factory=dict)  # BATCH_FAULTS kind → rate

    def __post_init__(self) -> None:
        self.faults = dict(self.faults)
        check_faults(self.faults)
        self.batch_faults = {**self.batch_faults, **{k: self.faults.pop(k) for k in BATCH_FAULTS if k in self.faults}}
        check_faults(self.batch_faults)
        if self.jitter < 0 or self.jitter >= 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")
        for name in ("ttft_ms", "tps", "stall_seconds", "ping_seconds", "fault_retry_after", "batch_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0 or math.isnan(value):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        for name in ("header_timeout", "body_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
                raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
        self.api_keys = frozenset(self.api_keys)
        if not self.api_keys and not is_loopback(self.host):
            raise ValueError(f"host {self.host} is reachable from other machines: set api_keys "
                             f"(claude-tui simulate --api-key KEY), or bind 127.0.0.1")
        if self.burst <= 0:
            raise ValueError(f"burst must be > 0 seconds, got {self.burst}")
        if self.reply_tokens < 1:
            raise ValueError(f"reply_tokens must be >= 1, got {self.reply_tokens}")
        if self.fixed_latency_ms is not None and self.fixed_latency_ms < 0:
            raise ValueError(f"fixed_latency_ms must be >= 0, got {self.fixed_latency_ms}")
        for name in ("rpm", "itpm", "otpm"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0 (0 = unlimited), got {value}")

    def summary(self) -> str:
        """One line for the startup banner."""

        def lim(v: int | None) -> str:
            return "unlimited" if not v else str(v)

        parts = [
            f"rpm={lim(self.rpm)}",
            f"itpm={lim(self.itpm)}",
            f"otpm={lim(self.otpm)}",
            f"ttft={self.ttft_ms:g}ms" if self.fixed_latency_ms is None else f"latency={self.fixed_latency_ms:g}ms",
            f"tps={self.tps:g}" if self.tps else "tps=unlimited",
            f"reply≈{self.reply_tokens} tokens",
            f"seed={self.seed}",
        ]
        if self.faults:
            parts.append("faults=" + ",".join(f"{k}={v:g}" for k, v in self.faults.items()))
        return " ".join(parts)


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_faults(faults: dict[str, float]) -> None:
    """Raise ValueError (one line) if a kind is unknown, a rate is outside [0, 1] or they sum past 1."""
    for kind, rate in faults.items():
        if kind not in FAULT_KINDS + BATCH_FAULTS:
            raise ValueError(f"unknown fault kind {kind!r} (expected one of {', '.join(FAULT_KINDS + BATCH_FAULTS)})")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate for {kind} must be a number between 0 and 1, got {rate!r}")
    total = sum(faults.values())
    if total > 1.0 + 1e-9:
        raise ValueError(f"fault rates add up to {total:g}; they must not exceed 1")


def parse_faults(spec: str) -> dict[str, float]:
    """Parse ``"rate_limit=0.05,stall=0.01"`` into ``{"rate_limit": 0.05, "stall": 0.01}``.

    An empty string gives ``{}``. Raises ``ValueError`` with a one-line message on an unknown
    kind, a missing ``=``, a rate that is not a number in [0, 1], or rates summing past 1.
    """
    faults: dict[str, float] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        kind, sep, rate_text = item.partition("=")
        kind = kind.strip().replace("-", "_")
        if not sep:
            raise ValueError(f"bad fault {item!r}: expected KIND=RATE, e.g. rate_limit=0.05")
        try:
            rate = float(rate_text.strip())
        except ValueError:
            raise ValueError(f"bad rate {rate_text.strip()!r} for {kind}: expected a number between 0 and 1") from None
        if math.isnan(rate):
            raise ValueError(f"bad rate {rate_text.strip()!r} for {kind}: expected a number between 0 and 1")
        faults[kind] = rate
    check_faults(faults)
    return faults
