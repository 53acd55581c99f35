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
    ("conc", lambda r: r["max_concurrency"]),
    ("requests", lambda r: r["requests"]),
    ("failed", lambda r: r["failed"]),
    ("duration s", lambda r: _num(r["duration"], "{:.1f}")),
    ("req/s", lambda r: _num(r["request_throughput"])),
    ("out tok/s", lambda r: _num(r["output_throughput"], "{:.0f}")),
    ("TTFT mean/p50/p99 ms", lambda r: "/".join(_ms(r[k]) for k in ("mean_ttft_ms", "median_ttft_ms", "p99_ttft_ms"))),
    ("latency mean/p50/p99 ms", lambda r: "/".join(_ms(r[k]) for k in ("mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms"))),
    ("TPOT ms", lambda r: _num(r["mean_tpot_ms"], "{:.1f}")),
    ("error rate", lambda r: _pct(r["error_rate"])),
    ("attempts", lambda r: _num(r["attempts"])),
    ("retries", lambda r: _num(r["retries"])),
    ("429s", lambda r: _num(r["rate_limited"])),
]

#: What no peer reports: waits, overloads, the ceilings, cache and cost.
OURS_COLUMNS: list[Column] = [
    ("run", lambda r: r["label"]),
    ("ITL p50/p99 ms", lambda r: f"{_ms(r.get('median_itl_ms'))}/{_ms(r.get('p99_itl_ms'))}"),
    ("max in flight", lambda r: _num(r.get("max_concurrent_requests"))),
    ("529s", lambda r: _num(r.get("overloaded"))),
    ("retry wait s", lambda r: _num(r.get("retry_wait_s"), "{:.1f}")),
    ("budget wait s", lambda r: _num(r.get("budget_wait_s"), "{:.1f}")),
    ("Little's-law ceiling /s", lambda r: _num(r.get("littles_law_ceiling"))),
    ("rate-limit ceiling /s", lambda r: _num(r.get("rate_limit_ceiling"))),
    ("cache hit", lambda r: _pct(r.get("cache_hit_ratio"))),
    ("cost $", lambda r: _num(r.get("cost_usd"), "{:.4f}")),
    ("$ per 1k good", lambda r: _num(r.get("cost_per_1000_good_usd"), "{:.3f}")),
]

#: Shown when ``--goodput`` is given.
GOODPUT_COLUMNS: list[Column] = [
    ("run", lambda r: r["label"]),
    ("objectives ms", lambda r: " ".join(f"{k}≤{v:g}" for k, v in (r.get("goodput_slo_ms") or {}).items())),
    ("good req/s", lambda r: _num(r.get("request_goodput"))),
    ("req/s", lambda r: _num(r["request_throughput"])),
    ("SLO attainment", lambda r: _pct(r.get("slo_attainment"))),
    ("lost", lambda r: r["failed"]),
]

SPECIFIC: dict[str, list[Column]] = {
    "table": [
        ("strategy", lambda r: r["label"]),
        ("req/s claimed", lambda r: _claimed(r, "requests_per_s", lambda v: f"{v:.1f}")),
        ("req/s measured", lambda r: _num(r["request_throughput"])),
        ("ceiling N/W", lambda r: _num(r["littles_law_ceiling"])),
        ("efficiency", lambda r: _pct(r["efficiency"])),
        ("claimed ÷ its ceiling", lambda r: _claimed(r, "claimed_over_ceiling", lambda v: f"{v:.1f}×")),
        ("latency claimed ms", lambda r: _claimed(r, "latency_mean_ms", lambda v: f"{v:.0f}")),
        ("latency mean ms", lambda r: _ms(r["mean_e2el_ms"])),
        ("TTFT mean ms", lambda r: _ms(r["mean_ttft_ms"])),
        ("error rate claimed", lambda r: _claimed(r, "error_rate", _pct)),
        ("error rate", lambda r: _pct(r["error_rate"])),
    ],
    "scaling": [
        ("run", lambda r: "claude-tui pool" if r["approach"] == "claude-tui" else "bare SDK (reference)"),
        ("in flight", lambda r: r["max_concurrency"]),
        ("requests", lambda r: r["requests"]),
        ("req/s", lambda r: _num(r["request_throughput"])),
        ("ceiling", lambda r: _num(r["littles_law_ceiling"])),
        ("efficiency", lambda r: _pct(r["efficiency"])),
        ("latency p50/p99 ms", lambda r: f"{_ms(r['median_e2el_ms'])}/{_ms(r['p99_e2el_ms'])}"),
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
        ("wall s", lambda r: _num(r["duration"], "{:.1f}")),
        ("goodput /min", lambda r: _num(r.get("goodput_per_min"), "{:.1f}")),
        ("of limit", lambda r: _pct(r.get("goodput_fraction"))),
        ("latency p50/p99 ms", lambda r: f"{_ms(r['median_e2el_ms'])}/{_ms(r['p99_e2el_ms'])}"),
    ],
    "serve": [
        ("run", lambda r: r["label"]),
        ("rate /s", lambda r: "inf" if r.get("request_rate") is None else _num(r.get("request_rate"))),
        ("burstiness", lambda r: _num(r.get("burstiness"))),
        ("max concurrent (seen)", lambda r: _num(r.get("max_concurrent_requests"))),
        ("req/s", lambda r: _num(r["request_throughput"])),
        ("TTFT p50/p99 ms", lambda r: f"{_ms(r['median_ttft_ms'])}/{_ms(r['p99_ttft_ms'])}"),
        ("E2EL p50/p99 ms", lambda r: f"{_ms(r['median_e2el_ms'])}/{_ms(r['p99_e2el_ms'])}"),
        ("client CPU ms/request", lambda r: _num(r["cpu_ms_per_request"], "{:.2f}")),
    ],
    "faults": [
        ("approach", lambda r: r["label"]),
        ("completed", lambda r: r["completed"]),
        ("lost", lambda r: r["failed"]),
        ("attempts (server)", lambda r: _num(r["attempts"])),
        ("attempts/request", lambda r: _num(r["attempts_per_request"])),
        ("SDK hidden retries", lambda r: _num(r.get("sdk_hidden_retries"))),
        ("failed attempts", lambda r: _num(r["failed_attempts"])),
        ("latency p50/p99 ms", lambda r: f"{_ms(r['median_e2el_ms'])}/{_ms(r['p99_e2el_ms'])}"),
        ("wall s", lambda r: _num(r["duration"], "{:.1f}")),
    ],
}


def _cells(columns: list[Column], rows: Iterable[dict[str, Any]]) -> list[list[str]]:
    return [[str(get(r)) for _name, get in columns] for r in rows]


def _table_specs(result: dict[str, Any]) -> list[tuple[str, list[Column]]]:
    specs = [(result["title"], SPECIFIC.get(result["name"], [])), ("load-test figures", LOAD_COLUMNS),
             ("waits, ceilings and cost", OURS_COLUMNS)]
    if any(r.get("goodput_slo_ms") for r in result["rows"]):
        specs.append(("goodput", GOODPUT_COLUMNS))
    return specs


def rich_tables(result: dict[str, Any]) -> list[Any]:
    from rich.table import Table

    tables = []
    for title, columns in _table_specs(result):
        if not columns:
            continue
        table = Table(title=title if title not in ("load-test figures",) else None, title_justify="left", show_lines=False)
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
    console.print(f"  [dim]({result['name']}: {result['duration_s']:.1f} s{_load_note(result)})[/]\n")


def markdown_table(columns: list[Column], rows: Iterable[dict[str, Any]]) -> str:
    head = "| " + " | ".join(name for name, _ in columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"
    body = ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in _cells(columns, rows)]
    return "\n".join([head, rule, *body])


def markdown(result: dict[str, Any]) -> str:
    parts = [f"### {result['title']}", ""]
    for _title, columns in _table_specs(result):
        if columns:
            parts += [markdown_table(columns, result["rows"]), ""]
    parts += [f"- {note}" for note in result.get("notes", [])]
    losses = {r["label"]: r["client_errors"] for r in result["rows"] if r.get("client_errors")}
    for label, errors in losses.items():
        parts.append(f"- errors seen by {label}: {', '.join(f'{k} ×{v}' for k, v in errors.items())}")
    parts.append(f"- scenario wall time: {result['duration_s']:.1f} s{_load_note(result)}")
    return "\n".join(parts) + "\n"


def _load_note(result: dict[str, Any]) -> str:
    load = result.get("load_average") or {}
    text = ", ".join(f"{k} {' '.join(f'{v:.2f}' for v in vals)}" for k, vals in load.items())
    repeat = result.get("repeat")
    return (f"; load average {text}" if text else "") + (f"; median of {repeat} runs" if repeat and repeat > 1 else "")


def _median(values: list[Any]) -> Any:
    import statistics

    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) != len(values) or not numbers:
        return values[0]
    middle = statistics.median(numbers)
    return round(middle, 6) if isinstance(middle, float) else middle


def merge_repeats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One scenario result from N runs of it: each numeric row field is the median over the runs
    (rows matched by label); lists (CDF, timeline) come from the run with the median throughput."""
    first = runs[0]
    merged = dict(first)
    rows = []
    for index, base in enumerate(first["rows"]):
        same = [run["rows"][index] for run in runs if index < len(run["rows"]) and run["rows"][index]["label"] == base["label"]]
        by_rps = sorted(same, key=lambda r: r.get("request_throughput") or 0.0)
        middle = by_rps[len(by_rps) // 2]
        out = {}
        for key, value in base.items():
            if isinstance(value, (list, dict)) or value is None:
                out[key] = middle.get(key, value)
            else:
                out[key] = _median([r.get(key) for r in same])
        out["runs"] = len(same)
        rows.append(out)
    merged["rows"] = rows
    merged["repeat"] = len(runs)
    merged["duration_s"] = sum(run["duration_s"] for run in runs)
    merged["load_average"] = {"before": first.get("load_average", {}).get("before", []),
                              "after": runs[-1].get("load_average", {}).get("after", [])}
    merged["runs_load_average"] = [run.get("load_average") for run in runs]
    return merged


def document(results: list[dict[str, Any]], *, argv: list[str] | None, quick: bool) -> dict[str, Any]:
    """The ``--json`` document: an object per scenario, each with its rows."""
    return {
        "tool": "claude-tui bench",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": argv,
        "quick": quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": [round(v, 2) for v in os.getloadavg()]},
        "scenarios": {r["name"]: r for r in results},
    }
