"""Reports users can compare: vLLM field names, a schema, goodput, arrival modes, --repeat medians, plots."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import jsonschema
import pytest

from claude_tui.bench import measure
from claude_tui.bench.measure import RunResult, Sample, parse_goodput, row
from claude_tui.bench.report import merge_repeats
from claude_tui.bench.serve import arrival_times
from claude_tui.cli import main

SCHEMA = json.loads((Path(__file__).parents[2] / "benchmarks" / "bench.schema.json").read_text())


@pytest.mark.timeout(900)  # four scenarios on a machine that may be busy; the timeout is only for hangs
def test_bench_quick_json_validates_against_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(doc, SCHEMA)
    assert set(doc["scenarios"]) == {"table", "scaling", "rate-limit", "faults"}
    assert len(doc["machine"]["load_average"]) == 3
    limited = doc["scenarios"]["rate-limit"]["rows"]
    assert all(r["rate_limit_ceiling"] == pytest.approx(r["binding_per_min"] / 60) for r in limited)
    paced = [r for r in limited if "paced" in r["label"]]
    assert paced and all(r["rate_limited"] == 0 and r["failed"] == 0 for r in paced)


def _run(samples: list[Sample], requests: int) -> RunResult:
    return RunResult("x", "claude-tui", 4, requests, len(samples), 10.0, latencies=[s.e2el for s in samples],
                     ttfts=[s.ttft for s in samples if s.ttft is not None], samples=samples, cost_usd=0.5)


def test_goodput_counts_a_request_only_if_it_meets_every_objective(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "GOODPUT_SLO", parse_goodput(["ttft:500", "e2el:8000"]))
    samples = [
        Sample(0.2, 1.0, None, 1.0),  # good
        Sample(0.2, 9.0, None, 2.0),  # too slow end to end
        Sample(0.7, 1.0, None, 3.0),  # first token too late
        Sample(None, 1.0, None, 4.0),  # no TTFT measured: cannot be shown to meet it
        Sample(0.1, 0.5, None, 6.0),  # good
    ]
    r = row(_run(samples, requests=6))  # and one request lost: it counts against attainment
    assert r["request_goodput"] == pytest.approx(2 / 10.0)
    assert r["slo_attainment"] == pytest.approx(2 / 6, abs=1e-4)
    assert r["cost_per_1000_good_usd"] == pytest.approx(0.5 / 2 * 1000)
    assert r["good_per_bucket"] == [1, 1, 0]  # 5-second buckets of good completions


def test_bad_goodput_objectives_are_one_line_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (["ttft"], ["speed:5"], ["e2el:-1"], ["ttft:soon"]):
        with pytest.raises(SystemExit) as exc:
            main(["bench", "--goodput", *bad])
        assert exc.value.code == 2
    assert "METRIC:MS" in capsys.readouterr().err


def test_arrivals_all_at_once_poisson_and_gamma() -> None:
    assert arrival_times(5, float("inf"), 1.0) == [0.0] * 5
    poisson = arrival_times(4000, 20.0, 1.0, seed=1)
    gaps = [b - a for a, b in zip(poisson, poisson[1:])]
    assert statistics.mean(gaps) == pytest.approx(1 / 20, rel=0.05)
    assert statistics.stdev(gaps) == pytest.approx(1 / 20, rel=0.1)  # exponential: sd = mean
    bursty = arrival_times(4000, 20.0, 0.25, seed=1)
    bursty_gaps = [b - a for a, b in zip(bursty, bursty[1:])]
    assert statistics.mean(bursty_gaps) == pytest.approx(1 / 20, rel=0.1)  # same rate …
    assert statistics.stdev(bursty_gaps) > 1.5 * statistics.stdev(gaps)  # … in bursts (gamma, shape 0.25)


def test_repeat_reports_the_median_of_each_figure() -> None:
    def result(rps: float, p99: float) -> dict:
        return {"name": "s", "title": "t", "rows": [{"label": "a", "approach": "claude-tui", "request_throughput": rps,
                                                     "p99_e2el_ms": p99, "e2el_cdf_ms": [rps]}],
                "duration_s": 1.0, "load_average": {"before": [1.0, 1.0, 1.0], "after": [2.0, 2.0, 2.0]}}
    merged = merge_repeats([result(10.0, 900.0), result(30.0, 100.0), result(20.0, 500.0)])
    (r,) = merged["rows"]
    assert (r["request_throughput"], r["p99_e2el_ms"], r["runs"]) == (20.0, 500.0, 3)
    assert r["e2el_cdf_ms"] == [20.0]  # lists come from the median run
    assert merged["repeat"] == 3


def test_plot_writes_svg_charts(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from claude_tui.bench.plots import write_plots

    rows = [{"label": f"claude-tui pool: {c} in flight", "approach": "claude-tui", "max_concurrency": c,
             "request_throughput": c * 0.98, "littles_law_ceiling": float(c), "e2el_cdf_ms": [1000.0 + q for q in range(21)],
             "good_per_bucket": [3, 5], "bucket_s": 5.0, "rate_limit_ceiling": 1.0} for c in (1, 5, 20)]
    doc = {"machine": {"cpus": 2, "python": "3.11", "load_average": [0.5, 0.4, 0.3]},
           "scenarios": {"scaling": {"title": "Scaling", "rows": rows}, "rate-limit": {"title": "Limit", "rows": rows[:1]}}}
    written = write_plots(doc, tmp_path / "charts")
    assert {p.name for p in written} == {"throughput_vs_concurrency.svg", "latency_cdf_scaling.svg",
                                         "latency_cdf_rate-limit.svg", "goodput_over_time.svg"}
    for path in written:
        assert path.read_text().lstrip().startswith("<?xml") and "<svg" in path.read_text()


def test_plot_without_matplotlib_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the 'plot' extra were not installed
    assert main(["bench", "--quick", "--scenario", "scaling", "--plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["claude-tui bench: --plot needs matplotlib: pip install 'claude-tui[plot]'"]
