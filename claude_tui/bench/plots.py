"""``bench --plot DIR``: charts of a bench document, as SVG (matplotlib, Agg backend), and one inline.

- ``throughput_vs_concurrency.svg``: requests/s against requests in flight, per peer, with the
  Little's-law ceiling (scaling scenario);
- ``latency_cdf_<scenario>.svg``: end-to-end latency CDF per peer (every scenario);
- ``goodput_over_time.svg``: completions per minute over the run, per peer, against the rate limit
  (rate-limit scenario; good requests only when ``--goodput`` is given).

The ``plot`` extra (matplotlib, plotext) is optional; without it ``--plot`` is refused in one line
before anything runs. The terminal chart (plotext) is the throughput one, else the first CDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .measure import CDF_POINTS

PEER_COLOURS = {"claude-tui": "#d97757", "bare-sdk": "#6a9bcc", "guide": "#788c5d"}


class PlotsUnavailable(RuntimeError):
    pass


def check_available() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotsUnavailable("--plot needs matplotlib: pip install 'claude-tui[plot]'") from None


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "figure.figsize": (7.5, 4.5), "axes.grid": True, "grid.alpha": 0.3})
    return plt


def _subtitle(doc: dict[str, Any], scenario: dict[str, Any]) -> str:
    machine = doc.get("machine", {})
    load = (scenario.get("load_average") or {}).get("before") or machine.get("load_average") or []
    repeat = scenario.get("repeat") or 1
    return (f"{machine.get('cpus', '?')} CPUs, Python {machine.get('python', '?')}, load average "
            f"{' '.join(f'{v:.2f}' for v in load)}; {'median of ' + str(repeat) + ' runs' if repeat > 1 else '1 run'}")


def _peer(row: dict[str, Any]) -> str:
    return {"claude-tui": "claude-tui", "bare-sdk": "bare SDK", "guide": "guide"}.get(row["approach"], row["approach"])


def throughput_series(doc: dict[str, Any]) -> dict[str, list[tuple[int, float, float | None]]]:
    """Per peer: (in flight, requests/s, ceiling) from the scaling scenario."""
    scaling = doc.get("scenarios", {}).get("scaling")
    series: dict[str, list[tuple[int, float, float | None]]] = {}
    for r in (scaling or {}).get("rows", []):
        if r.get("request_throughput") is not None:
            series.setdefault(_peer(r), []).append((r["max_concurrency"], r["request_throughput"], r.get("littles_law_ceiling")))
    return {k: sorted(v) for k, v in series.items()}


def write_plots(doc: dict[str, Any], directory: str | Path) -> list[Path]:
    plt = _pyplot()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    scenarios = doc.get("scenarios", {})

    series = throughput_series(doc)
    if series:
        fig, ax = plt.subplots()
        ceiling = sorted({(c, ceil) for points in series.values() for c, _r, ceil in points if ceil})
        if ceiling:
            ax.plot([c for c, _ in ceiling], [v for _, v in ceiling], "k--", label="Little's-law ceiling")
        for peer, points in series.items():
            ax.plot([c for c, _r, _ in points], [r for _c, r, _ in points], "o-", label=peer,
                    color=PEER_COLOURS.get({"bare SDK": "bare-sdk"}.get(peer, peer)))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("requests in flight")
        ax.set_ylabel("completed requests / s")
        ax.set_title("Throughput vs concurrency\n" + _subtitle(doc, scenarios["scaling"]), fontsize=10)
        ax.legend()
        written.append(_save(fig, plt, out / "throughput_vs_concurrency.svg"))

    for name, scenario in scenarios.items():
        rows = [r for r in scenario.get("rows", []) if r.get("e2el_cdf_ms")]
        if not rows:
            continue
        fig, ax = plt.subplots()
        for r in rows:
            ax.plot([v / 1000 for v in r["e2el_cdf_ms"]], [q / 100 for q in CDF_POINTS][: len(r["e2el_cdf_ms"])],
                    label=r["label"], color=PEER_COLOURS.get(r["approach"]) if len(rows) <= 3 else None)
        ax.set_xlabel("end-to-end latency, s (retries included)")
        ax.set_ylabel("fraction of completed requests")
        ax.set_title(f"Latency CDF — {scenario['title']}\n" + _subtitle(doc, scenario), fontsize=10)
        ax.legend(fontsize=7)
        written.append(_save(fig, plt, out / f"latency_cdf_{name}.svg"))

    limited = scenarios.get("rate-limit")
    if limited and limited.get("rows"):
        fig, ax = plt.subplots()
        limit = None
        for r in limited["rows"]:
            bucket = r.get("bucket_s") or 5.0
            counts = r.get("good_per_bucket") or []
            ax.step([(i + 1) * bucket for i in range(len(counts))], [c * 60 / bucket for c in counts], where="pre",
                    label=r["label"][:60], color=PEER_COLOURS.get(r["approach"]))
            limit = r.get("rate_limit_ceiling") or limit
        if limit:
            ax.axhline(limit * 60, color="k", linestyle="--", label=f"rate limit ({limit * 60:g}/min)")
        ax.set_xlabel("seconds since start")
        ax.set_ylabel("good completions / min (5 s buckets)")
        ax.set_title("Goodput under the rate limit\n" + _subtitle(doc, limited), fontsize=10)
        ax.legend(fontsize=7)
        written.append(_save(fig, plt, out / "goodput_over_time.svg"))
    return written


def _save(fig: Any, plt: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})  # no timestamp: the same data, the same file
    plt.close(fig)
    return path


def terminal_chart(doc: dict[str, Any], width: int = 78, height: int = 18) -> str | None:
    """The throughput chart (else the first latency CDF) for the terminal, if plotext is installed."""
    try:
        import plotext as pt
    except ImportError:
        return None
    pt.clear_figure()
    pt.plotsize(width, height)
    pt.theme("clear")
    series = throughput_series(doc)
    if series:
        for peer, points in series.items():
            pt.plot([c for c, _r, _ in points], [r for _c, r, _ in points], label=peer, marker="dot")
        ceiling = sorted({(c, ceil) for points in series.values() for c, _r, ceil in points if ceil})
        if ceiling:
            pt.plot([c for c, _ in ceiling], [v for _, v in ceiling], label="ceiling")
        pt.title("requests/s vs in flight")
        pt.xlabel("in flight")
    else:
        rows = [r for s in doc.get("scenarios", {}).values() for r in s.get("rows", []) if r.get("e2el_cdf_ms")]
        if not rows:
            return None
        for r in rows[:4]:
            pt.plot([v / 1000 for v in r["e2el_cdf_ms"]], [q / 100 for q in CDF_POINTS][: len(r["e2el_cdf_ms"])],
                    label=r["label"][:30])
        pt.title("latency CDF (s)")
    return str(pt.uncolorize(pt.build()))  # plain characters: the console prints them as text
