"""The rate-limit benchmarks' arithmetic (the scenarios themselves run in `.ci/run`'s `bench --quick`)."""

from __future__ import annotations

from claude_tui.bench import limit_scenarios
from claude_tui.bench.cli import SCENARIO_NAMES
from claude_tui.bench.registry import runner


def test_the_binding_limit_is_rpm_or_otpm_over_the_replies_length() -> None:
    config = dict(rpm=60, otpm=3000)
    assert limit_scenarios.binding_limit(config, 45.0) == ("RPM", 60.0)  # 3000 / 45 = 66.7 a minute
    assert limit_scenarios.binding_limit(config, 100.0) == ("OTPM", 30.0)
    assert limit_scenarios.binding_limit(dict(rpm=120, otpm=0), None) == ("RPM", 120.0)


def test_both_scenarios_are_registered() -> None:
    assert {"rate-limit", "shared-limit"} <= set(SCENARIO_NAMES)
    assert runner("rate-limit") is limit_scenarios.scenario_rate_limit
    assert runner("shared-limit") is limit_scenarios.scenario_shared_limit
