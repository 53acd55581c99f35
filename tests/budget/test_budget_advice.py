"""Which limit binds, and the lever: a pure function over a budget snapshot (the panel and `run` share it)."""

from __future__ import annotations

from dataclasses import replace

from claude_tui.engine.budget import BudgetSnapshot, ClassState, DimensionState
from claude_tui.engine.budget_advice import advise, suggested_max_tokens


def _dim(limit: int | None, pressure: float = 0.0, waited: float = 0.0) -> DimensionState:
    return DimensionState(limit, limit, None, None if limit is None else limit / 60, pressure, waited)


def _snap(requests: DimensionState, output: DimensionState, *, replies: int = 50, mean: float = 212.0,
          p95: float = 300.0, max_tokens: float = 1024.0, hold: float = 0.0,
          inp: DimensionState | None = None) -> BudgetSnapshot:
    dims = {"requests": requests, "input_tokens": inp or _dim(None), "output_tokens": output}
    state = ClassState("sonnet-4", dims, None, 1.0, None, 0, 5.0, replies, mean, p95, max_tokens, hold)
    return BudgetSnapshot({"sonnet-4": state}, 5, 5, 0, "local", "", 1, 10, 12.0)


def test_output_tokens_bound_and_a_smaller_max_tokens_is_the_lever() -> None:
    snap = _snap(_dim(60, pressure=0.31, waited=1.0), _dim(3000, pressure=0.96, waited=40.0))
    advice = advise(snap)
    assert advice.binding == "output_tokens"
    assert advice.headline == (
        "output tokens bound this run: 96 % of OTPM used while requests used 31 % of RPM; replies average 212 "
        "tokens against max_tokens 1024 — lowering max_tokens to 400 would let ~2.6× more requests start")
    assert suggested_max_tokens(snap.classes["sonnet-4"]) == 400  # max(300 × 1.25, 212 × 1.5) → 375 → 400


def test_the_gain_is_capped_by_the_next_limit() -> None:
    # 1024 / 400 would be 2.6×, but requests already use half of RPM: at most 2× more can start
    snap = _snap(_dim(60, pressure=0.5, waited=1.0), _dim(3000, pressure=0.97, waited=40.0))
    assert advise(snap).headline.endswith("lowering max_tokens to 400 would let ~2.0× more requests start")


def test_replies_that_use_their_reservation_leave_only_a_higher_limit() -> None:
    snap = _snap(_dim(60, pressure=0.3), _dim(3000, pressure=0.99, waited=9.0), mean=900.0, p95=1000.0)
    assert advise(snap).headline.endswith("only a higher OTPM limit goes faster")


def test_requests_bound() -> None:
    advice = advise(_snap(_dim(60, pressure=0.98, waited=30.0), _dim(3000, pressure=0.4, waited=2.0)))
    assert advice.binding == "requests"
    assert advice.headline.startswith("requests bound this run: 98 % of RPM used while output tokens used 40 % of OTPM;")
    assert "higher RPM limit" in advice.headline


def test_input_tokens_bound_points_at_prompt_caching() -> None:
    advice = advise(_snap(_dim(60, pressure=0.2), _dim(None), inp=_dim(30000, pressure=0.95, waited=5.0)))
    assert advice.binding == "input_tokens" and "cache reads do not count toward ITPM" in advice.headline


def test_a_429_hold_names_itself() -> None:
    advice = advise(_snap(_dim(60, pressure=0.2, waited=1.0), _dim(3000, pressure=0.2), hold=7.5))
    assert advice.binding == "retry_after"
    assert advice.headline.startswith("429s held the budget 7.5 s") and "--redis" in advice.headline


def test_nothing_bound() -> None:
    advice = advise(_snap(_dim(60, pressure=0.1), _dim(3000, pressure=0.05)))
    assert advice.binding is None
    assert advice.headline == "no limit bound: nothing waited on the budget (requests used 10 % of RPM, output tokens used 5 % of OTPM)"


def test_a_burst_says_how_long_the_queue_takes_to_drain() -> None:
    snap = _snap(_dim(60, pressure=0.98, waited=30.0), _dim(3000, pressure=0.4))
    assert advise(snap, waiting=140, requests_per_min=10.0).drain == "queue: 140 waiting — about 14.0 min to drain at 10 requests/min"
    # a measured rate above what the limits allow (an initial burst) is not promised
    assert advise(snap, waiting=140, requests_per_min=60.0).drain == "queue: 140 waiting — about 9.9 min to drain at 14 requests/min"
    # no measured rate yet: the limits' rate at the replies' size (3000 / 212 = 14 a minute binds)
    assert advise(snap, waiting=7).drain == "queue: 7 waiting — about 30 s to drain at 14 requests/min"
    assert advise(snap).drain is None


def test_before_any_headers() -> None:
    empty = BudgetSnapshot({}, 5, 5, 0, "local", "", 1, 0, 0.0)
    assert advise(empty).binding is None and advise(empty).lines == ["no rate-limit headers yet: nothing to pace by"]


def test_before_any_wait_has_ended_the_dimension_waited_on_now_binds() -> None:
    snap = _snap(_dim(6, pressure=1.0), _dim(2000, pressure=0.5))
    assert advise(snap).binding is None  # nothing waits: nothing binds
    state = replace(snap.classes["sonnet-4"], binding="requests", waiting=3)
    waiting = replace(snap, classes={"sonnet-4": state})
    assert advise(waiting).headline.startswith("requests bound this run: 100 % of RPM used")


def _ramped(snap: BudgetSnapshot, ramp: float, ramp_downs: int) -> BudgetSnapshot:
    state = replace(snap.classes["sonnet-4"], slow_start=ramp, ramp_downs=ramp_downs)
    return replace(snap, classes={"sonnet-4": state})


def test_a_ramp_limit_hold_names_the_ramp_limit_not_another_client() -> None:
    snap = _ramped(_snap(_dim(30, pressure=0.2, waited=1.0), _dim(1500, pressure=0.2), hold=7.5), 0.5, 1)
    advice = advise(snap)
    assert advice.binding == "retry_after"
    assert "ramp limit" in advice.headline and "--redis" not in advice.headline
    assert advice.headline.endswith("pacing at 50 % of the limits, ×2 each clean minute")


def test_a_limit_bound_while_ramping_says_the_share_in_force() -> None:
    # 98 % of a halved RPM is not 98 % of the key's RPM: the headline says the ramp is on
    snap = _ramped(_snap(_dim(30, pressure=0.98, waited=30.0), _dim(1500, pressure=0.4, waited=2.0)), 0.5, 1)
    advice = advise(snap)
    assert advice.binding == "requests"
    assert advice.headline.endswith("; pacing at 50 % of the limits, ×2 each clean minute")
