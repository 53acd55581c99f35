"""Tables (rich, for the terminal; Markdown, for BENCHMARKS.md) and the JSON document."""

from __future__ import annotations

import json
import os
import platform
import time
from typing import Any, Callable, Iterable

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def _num(value: Any, fmt: str = "{:.2f}") -> str:
    if value is None:
        return "—"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    return fmt.format(value)


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:.0f}"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _claimed(r: dict[str, Any], key: str, fmt: Callable[[Any], str]) -> str:
    claimed = r.get("claimed") or {}
    return fmt(claimed.get(key)) if key in claimed else "—"


#: The columns the load-testing tools print, for every scenario.
LOAD_COLUMNS: list[Column] = [
    ("run", lambda r: r["label"]),
    ("conc", lambda r: r["concurrency"]),
    ("requests", lambda r: r["requests"]),
    ("failed", lambda r: r["failed"]),
    ("duration s", lambda r: _num(r["duration_s"], "{:.1f}")),
    ("req/s", lambda r: _num(r["requests_per_s"])),
    ("out tok/s", lambda r: _num(r["output_tokens_per_s"], "{:.0f}")),
    ("TTFT mean/p50/p99 ms", lambda r: "/".join(_ms(r[k]) for k in ("ttft_mean_ms", "ttft_p50_ms", "ttft_p99_ms"))),
    ("latency mean/p50/p99 ms", lambda r: "/".join(_ms(r[k]) for k in ("latency_mean_ms", "latency_p50_ms", "latency_p99_ms"))),
    ("TPOT ms", lambda r: _num(r["tpot_mean_ms"], "{:.1f}")),
    ("error rate", lambda r: _pct(r["error_rate"])),
    ("attempts", lambda r: _num(r["attempts"])),
    ("retries", lambda r: _num(r["retries"])),
    ("429s", lambda r: _num(r["rate_limited"])),
]

SPECIFIC: dict[str, list[Column]] = {
    "table": [
        ("strategy", lambda r: r["label"]),
        ("req/s claimed", lambda r: _claimed(r, "requests_per_s", lambda v: f"{v:.1f}")),
        ("req/s measured", lambda r: _num(r["requests_per_s"])),
        ("ceiling N/W", lambda r: _num(r["ceiling_requests_per_s"])),
        ("efficiency", lambda r: _pct(r["efficiency"])),
        ("claimed ÷ its ceiling", lambda r: _claimed(r, "claimed_over_ceiling", lambda v: f"{v:.1f}×")),
        ("latency claimed ms", lambda r: _claimed(r, "latency_mean_ms", lambda v: f"{v:.0f}")),
        ("latency mean ms", lambda r: _ms(r["latency_mean_ms"])),
        ("TTFT mean ms", lambda r: _ms(r["ttft_mean_ms"])),
        ("error rate claimed", lambda r: _claimed(r, "error_rate", _pct)),
        ("error rate", lambda r: _pct(r["error_rate"])),
    ],
    "scaling": [
        ("run", lambda r: "claude-tui pool" if r["approach"] == "claude-tui" else "bare SDK (reference)"),
        ("in flight", lambda r: r["concurrency"]),
        ("requests", lambda r: r["requests"]),
        ("req/s", lambda r: _num(r["requests_per_s"])),
        ("ceiling", lambda r: _num(r["ceiling_requests_per_s"])),
        ("efficiency", lambda r: _pct(r["efficiency"])),
        ("latency p50/p99 ms", lambda r: f"{_ms(r['latency_p50_ms'])}/{_ms(r['latency_p99_ms'])}"),
        ("client CPU ms/request", lambda r: _num(r["cpu_ms_per_request"], "{:.2f}")),
        ("server CPU s", lambda r: _num(r.get("server_cpu_s"), "{:.2f}")),
        ("peak in flight (server)", lambda r: _num(r.get("peak_in_flight"))),
        ("failed", lambda r: r["failed"]),
    ],
    "rate-limit": [
        ("approach", lambda r: r["label"]),
        ("completed", lambda r: r["completed"]),
        ("lost", lambda r: r["failed"]),
        ("attempts (server)", lambda r: _num(r["attempts"])),
        ("SDK hidden retries", lambda r: _num(r.get("sdk_hidden_retries"))),
        ("429s", lambda r: _num(r["rate_limited"])),
        ("wall s", lambda r: _num(r["duration_s"], "{:.1f}")),
        ("goodput /min", lambda r: _num(r.get("goodput_per_min"), "{:.1f}")),
        ("of limit", lambda r: _pct(r.get("goodput_fraction"))),
        ("latency p50/p99 ms", lambda r: f"{_ms(r['latency_p50_ms'])}/{_ms(r['latency_p99_ms'])}"),
    ],
    "faults": [
        ("approach", lambda r: r["label"]),
        ("completed", lambda r: r["completed"]),
        ("lost", lambda r: r["failed"]),
        ("attempts (server)", lambda r: _num(r["attempts"])),
        ("attempts/request", lambda r: _num(r["attempts_per_request"])),
        ("SDK hidden retries", lambda r: _num(r.get("sdk_hidden_retries"))),
        ("failed attempts", lambda r: _num(r["failed_attempts"])),
        ("latency p50/p99 ms", lambda r: f"{_ms(r['latency_p50_ms'])}/{_ms(r['latency_p99_ms'])}"),
        ("wall s", lambda r: _num(r["duration_s"], "{:.1f}")),
    ],
}


def _cells(columns: list[Column], rows: Iterable[dict[str, Any]]) -> list[list[str]]:
    return [[str(get(r)) for _name, get in columns] for r in rows]


def rich_tables(result: dict[str, Any]) -> list[Any]:
    from rich.table import Table

    tables = []
    for title, columns in ((result["title"], SPECIFIC.get(result["name"], [])), ("load-test figures", LOAD_COLUMNS)):
        if not columns:
            continue
        table = Table(title=title if title != "load-test figures" else None, title_justify="left", show_lines=False)
        for index, (name, _get) in enumerate(columns):
            table.add_column(name, justify="left" if index == 0 else "right", overflow="fold")
        for cells in _cells(columns, result["rows"]):
            table.add_row(*cells)
        tables.append(table)
    return tables


def print_result(console: Any, result: dict[str, Any]) -> None:
    for table in rich_tables(result):
        console.print(table)
    for note in result.get("notes", []):
        console.print(f"  [dim]• {note}[/]")
    extra = {k: v for k, v in result.get("summary", {}).items()}
    if extra:
        console.print(f"  [dim]• {json.dumps(extra)}[/]")
    losses = {r["label"]: r["client_errors"] for r in result["rows"] if r.get("client_errors")}
    if losses:
        for label, errors in losses.items():
            console.print(f"  [dim]• errors seen by {label}: {', '.join(f'{k} ×{v}' for k, v in errors.items())}[/]")
    console.print(f"  [dim]({result['name']}: {result['duration_s']:.1f} s)[/]\n")


def markdown_table(columns: list[Column], rows: Iterable[dict[str, Any]]) -> str:
    head = "| " + " | ".join(name for name, _ in columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"
    body = ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in _cells(columns, rows)]
    return "\n".join([head, rule, *body])


def markdown(result: dict[str, Any]) -> str:
    parts = [f"### {result['title']}", ""]
    columns = SPECIFIC.get(result["name"])
    if columns:
        parts += [markdown_table(columns, result["rows"]), ""]
    parts += [markdown_table(LOAD_COLUMNS, result["rows"]), ""]
    parts += [f"- {note}" for note in result.get("notes", [])]
    losses = {r["label"]: r["client_errors"] for r in result["rows"] if r.get("client_errors")}
    for label, errors in losses.items():
        parts.append(f"- errors seen by {label}: {', '.join(f'{k} ×{v}' for k, v in errors.items())}")
    parts.append(f"- scenario wall time: {result['duration_s']:.1f} s")
    return "\n".join(parts) + "\n"


def document(results: list[dict[str, Any]], *, argv: list[str] | None, quick: bool) -> dict[str, Any]:
    """The ``--json`` document: an object per scenario, each with its rows."""
    return {
        "tool": "claude-tui bench",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": argv,
        "quick": quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "scenarios": {r["name"]: r for r in results},
    }
