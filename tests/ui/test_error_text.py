"""An error line offers what can help: no Ctrl+R for a request that would be refused again."""

from __future__ import annotations

from claude_tui.engine.events import Failed, Timings
from claude_tui.ui.widgets.turns import error_text


def _failed(kind: str, status: int, retryable: bool) -> Failed:
    return Failed(job_id="j", at=0.0, kind=kind, message=f"{kind} ({status}): nope", status_code=status,  # type: ignore[arg-type]
                  retryable=retryable, partial_text="", attempts=1, request_id=None, timings=Timings(0.0))


def test_a_prompt_too_long_does_not_suggest_retrying_it_as_it_is() -> None:
    assert "Ctrl+R" not in error_text(_failed("bad_request", 400, False))
    assert "Ctrl+R" not in error_text(_failed("too_large", 413, False))


def test_an_overload_that_ran_out_of_attempts_offers_a_retry() -> None:
    assert "press Ctrl+R to retry" in error_text(_failed("overloaded", 529, True))
