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


def test_a_lost_prompt_counts_as_never_finishing_in_the_submit_percentiles() -> None:
    # 195 replies and 5 lost prompts (the guide's run): its p99 falls on a lost prompt, not on its 193rd reply.
    finished = [float(i) for i in range(1, 196)]
    assert limit_scenarios.submit_percentile(finished, 5, 99) is None
    assert limit_scenarios.submit_percentile(finished, 5, 50) == 100.5
    # nothing lost: the ordinary percentile
    assert limit_scenarios.submit_percentile([float(i) for i in range(1, 201)], 0, 99) == 198.01
    # one lost of 200 lies past the p99 (index 197.01 of 0..199): the p99 is still a reply's
    assert limit_scenarios.submit_percentile([float(i) for i in range(1, 200)], 1, 99) == 198.01
