"""The ``claude-tui simulate`` flags, without importing aiohttp (the CLI stays quick to start)."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from .config import FAULT_KINDS, SimulatorConfig, parse_faults


def _number(kind: type, minimum: float, what: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value != value or value < minimum:  # NaN or too small
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return float(value)

    return convert


def _port(text: str) -> int:
    value = _number(int, 0, "a port number (0-65535)")(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(value)


def _faults(text: str) -> dict[str, float]:
    try:
        return parse_faults(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's flags (dests are prefixed ``sim_`` so they clash with nothing)."""
    d = SimulatorConfig()
    g = parser.add_argument_group("simulator")
    g.add_argument("--host", dest="sim_host", default=d.host, metavar="H",
                   help=f"address to bind (default {d.host}; any other than loopback needs --api-key)")
    g.add_argument("--api-key", dest="sim_api_key", default=None, metavar="KEY",
                   help="accept only this key (a wrong one gets the API's 401); required off loopback")
    g.add_argument("--port", dest="sim_port", type=_port, default=8765, metavar="P",
                   help="port to listen on (default 8765; 0 = any free port)")
    g.add_argument("--rpm", dest="sim_rpm", type=_number(int, 0, "a whole number >= 0"), default=d.rpm,
                   metavar="N", help=f"requests per minute (default {d.rpm}; 0 = unlimited)")
    g.add_argument("--itpm", dest="sim_itpm", type=_number(int, 0, "a whole number >= 0"), default=d.itpm,
                   metavar="N", help=f"input tokens per minute (default {d.itpm}; 0 = unlimited)")
    g.add_argument("--otpm", dest="sim_otpm", type=_number(int, 0, "a whole number >= 0"), default=d.otpm,
                   metavar="N", help=f"output tokens per minute (default {d.otpm}; 0 = unlimited)")
    g.add_argument("--burst-seconds", "--burst", dest="sim_burst", type=_number(float, 0.001, "a number of seconds > 0"),
                   default=d.burst, metavar="S",
                   help=f"bucket size in seconds of refill (default {d.burst:g}; 1 = per second, 60 = a minute at once)")
    g.add_argument("--ttft-ms", dest="sim_ttft_ms", type=_number(float, 0, "a number of milliseconds >= 0"),
                   default=d.ttft_ms, metavar="MS", help=f"time to first token (default {d.ttft_ms:g})")
    g.add_argument("--tps", dest="sim_tps", type=_number(float, 0, "a rate >= 0"), default=d.tps, metavar="N",
                   help=f"output tokens per second (default {d.tps:g}, jittered; 0 = unlimited)")
    g.add_argument("--reply-tokens", dest="sim_reply_tokens", type=_number(int, 1, "a whole number >= 1"),
                   default=d.reply_tokens, metavar="N", help=f"typical reply length (default {d.reply_tokens})")
    g.add_argument("--fixed-latency-ms", dest="sim_fixed_latency_ms",
                   type=_number(float, 0, "a number of milliseconds >= 0"), default=None, metavar="MS",
                   help="every reply takes exactly this long, TTFT included (for benchmarks)")
    g.add_argument("--seed", dest="sim_seed", type=_number(int, -(2**63), "an integer"), default=d.seed,
                   metavar="S", help="seed for replies, timing and faults (default 0)")
    g.add_argument("--fail", dest="sim_fail", type=_faults, default={}, metavar="KIND=RATE,...",
                   help="random faults per request, e.g. rate_limit=0.05,stall=0.01 (kinds: "
                        + ", ".join(FAULT_KINDS) + "; batch_errored, batch_expired for Message Batch requests)")
    g.add_argument("--header-timeout", dest="sim_header_timeout",
                   type=_number(float, 0.001, "a number of seconds > 0"), default=d.header_timeout, metavar="S",
                   help=f"close a connection that has not sent its request head within S (default {d.header_timeout:g})")
    g.add_argument("--body-timeout", dest="sim_body_timeout",
                   type=_number(float, 0.001, "a number of seconds > 0"), default=d.body_timeout, metavar="S",
                   help=f"answer 408 to a request whose body takes longer than S (default {d.body_timeout:g})")
    g.add_argument("--stall-seconds", dest="sim_stall_seconds", type=_number(float, 0, "a number of seconds >= 0"),
                   default=d.stall_seconds, metavar="S", help=f"how long a stall lasts (default {d.stall_seconds:g})")
    g.add_argument("--batch-seconds", dest="sim_batch_seconds", type=_number(float, 0, "a number of seconds >= 0"),
                   default=d.batch_seconds, metavar="S",
                   help=f"how long a Message Batch takes to process (default {d.batch_seconds:g})")


def config_from_args(ns: argparse.Namespace) -> SimulatorConfig:
    """Build the config from parsed flags (missing attributes fall back to the defaults).

    Raises ``ValueError`` (one line) for a combination no single flag can check, e.g. a
    non-loopback ``--host`` without ``--api-key``.
    """
    d = SimulatorConfig()

    def get(name: str, default: Any) -> Any:  # argparse values are untyped
        return getattr(ns, "sim_" + name, default)

    return SimulatorConfig(
        host=get("host", d.host),
        port=get("port", 8765),
        rpm=get("rpm", d.rpm) or None,
        itpm=get("itpm", d.itpm) or None,
        otpm=get("otpm", d.otpm) or None,
        burst=get("burst", d.burst),
        ttft_ms=get("ttft_ms", d.ttft_ms),
        tps=get("tps", d.tps),
        reply_tokens=get("reply_tokens", d.reply_tokens),
        fixed_latency_ms=get("fixed_latency_ms", None),
        seed=get("seed", d.seed),
        faults=dict(get("fail", {}) or {}),
        stall_seconds=get("stall_seconds", d.stall_seconds),
        api_keys=frozenset({key}) if (key := get("api_key", None)) else frozenset(),
        header_timeout=get("header_timeout", d.header_timeout),
        body_timeout=get("body_timeout", d.body_timeout),
        batch_seconds=get("batch_seconds", d.batch_seconds),
    )
