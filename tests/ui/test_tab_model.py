"""The tab model on its own: FIFO, context, the state machine (throttled included), retry, export.

No app, no widgets, no Textual: the events are the engine's own types, built as the pool builds them.
"""

from __future__ import annotations

import subprocess
import sys

from claude_tui.engine.events import (
    AttemptFailed,
    BackingOff,
    Cancelled,
    Done,
    Failed,
    FirstToken,
    Queued,
    Started,
    TextDelta,
    ThinkingDelta,
    Throttled,
    Timings,
    Usage,
)
from claude_tui.ui import fmt
from claude_tui.ui.chat_history import RestoredTurn
from claude_tui.ui.tab_model import TabModel, TabState

T0 = 1000.0


def done(job_id: str, text: str, *, attempts: int = 1, thinking: str = "") -> Done:
    return Done(job_id=job_id, at=T0 + 2, text=text, thinking=thinking, usage=Usage(input_tokens=5, output_tokens=7),
                stop_reason="end_turn", model="claude-sonnet-4-6", request_id="req_1", attempts=attempts,
                timings=Timings(submitted=T0, started=T0 + 0.1, first_token=T0 + 0.3, finished=T0 + 2), cost=0.001)


def failed(job_id: str, partial: str = "") -> Failed:
    return Failed(job_id=job_id, at=T0 + 1, kind="overloaded", message="overloaded (529)", status_code=529, retryable=True,
                  partial_text=partial, attempts=5, request_id=None, timings=Timings(submitted=T0))


def start(tab: TabModel, job_id: str):
    """What ChatView does: take the next turn and say which job the pool made of it."""
    turn = tab.next_turn()
    assert turn is not None
    tab.submitted(turn, job_id)
    return turn


def test_a_tab_runs_one_prompt_at_a_time_in_order_and_sends_the_context() -> None:
    tab = TabModel("t1", "chat 1")
    first = tab.add("first question")
    second = tab.add("second question")
    assert tab.add("   ") is None
    assert tab.title == "first question" and tab.state is TabState.PENDING
    assert start(tab, "j1") is first and first.state is TabState.QUEUED
    assert tab.next_turn() is None  # the tab is busy: the second prompt waits its turn
    assert second.state == "pending" and tab.label(2) == "2 ◷ #1 +1 first question"
    for event in (Queued("j1", T0, 2), Started("j1", T0, 1), FirstToken("j1", T0, 0.2, 1), TextDelta("j1", T0, "one "),
                  TextDelta("j1", T0, "answer")):
        tab.apply(event)
    assert first.state is TabState.STREAMING and first.text == "one answer"
    tab.apply(done("j1", "one answer"))
    assert first.state is TabState.DONE and "TTFT 200 ms" in first.footer and tab.active is None
    assert start(tab, "j2") is second
    assert [m["role"] for m in tab.context_before(second)] == ["user", "assistant", "user"]
    assert tab.context_before(second)[1]["content"] == "one answer"


def test_queue_position_and_the_label_glyphs() -> None:
    tab = TabModel("t1", "named", auto_title=False)
    turn = tab.add("hello")
    start(tab, "j1")
    tab.apply(Queued("j1", T0, 3))
    assert turn.position == 3 and tab.label() == "◷ #4 named"  # the title stays: the user named the tab
    assert tab.apply(Queued("someone-else", T0, 0)) is None  # another tab's job


def test_throttled_counts_down_to_the_budgets_deadline_then_streams() -> None:
    tab = TabModel("t1", "chat")
    turn = tab.add("paced")
    start(tab, "j1")
    held = Throttled(job_id="j1", at=T0, dimension="output_tokens", delay=3.2, deadline=T0 + 3.2, model_class="sonnet-4")
    assert tab.apply(held) is turn
    assert turn.state is TabState.THROTTLED and turn.throttled is held
    assert tab.label().startswith("⧗ ")
    assert fmt.throttle_text(held, held.deadline - T0) == "waiting for output-token budget — 3.2 s"
    tab.apply(Started("j1", T0 + 3.2, 1))
    assert turn.state is TabState.WAITING and turn.since == T0 + 3.2
    tab.apply(done("j1", "ok"))
    assert turn.state is TabState.DONE and turn.throttled is None


def test_backoff_then_a_retried_attempt_restarts_the_reply() -> None:
    tab = TabModel("t1", "chat")
    turn = tab.add("flaky")
    start(tab, "j1")
    tab.apply(Started("j1", T0, 1))
    tab.apply(TextDelta("j1", T0, "half a rep"))
    tab.apply(AttemptFailed(job_id="j1", at=T0 + 1, attempt=1, kind="disconnect", message="dropped", status_code=None,
                            retryable=True, request_id=None, partial_text="half a rep", usage=Usage(), started=T0, ended=T0 + 1))
    wait = BackingOff(job_id="j1", at=T0 + 1, attempt=1, max_attempts=5, delay=0.5, deadline=T0 + 1.5, reason="disconnect",
                      status_code=None, message="dropped", from_retry_after=False)
    tab.apply(wait)
    assert turn.state is TabState.BACKOFF and turn.backoff is wait and tab.label().startswith("↻ ")
    assert turn.last_failure == "disconnect" and turn.failed_with_text
    tab.apply(Started("j1", T0 + 1.5, 2))
    assert turn.text == "" and turn.attempt == 2  # the new attempt starts the reply over
    tab.apply(TextDelta("j1", T0 + 2, "whole reply"))
    tab.apply(done("j1", "whole reply", attempts=2))
    assert turn.text == "whole reply" and "2 attempts" in turn.footer


def test_failed_turn_keeps_partial_text_stays_out_of_context_and_retries() -> None:
    tab = TabModel("t1", "chat")
    turn = tab.add("will fail")
    start(tab, "j1")
    tab.apply(TextDelta("j1", T0, "partial"))
    tab.apply(failed("j1"))
    assert turn.state is TabState.FAILED and turn.text == "partial" and turn.error == "overloaded (529)"
    nxt = tab.add("next")
    assert nxt is not None
    assert [m["role"] for m in tab.context_before(nxt)] == ["user"]  # a failed turn is not context
    tab.pending.clear()
    tab.turns.remove(nxt)
    again = tab.retry()
    assert again is turn and turn.state is TabState.QUEUED and turn.text == "" and turn.error == ""
    assert tab.retry() is None  # busy now


def test_cancel_keeps_text_in_context_and_drops_the_waiting_prompts() -> None:
    tab = TabModel("t1", "chat")
    running = tab.add("long one")
    waiting = tab.add("behind it")
    start(tab, "j1")
    tab.apply(TextDelta("j1", T0, "some text"))
    assert tab.cancel_pending() == [waiting] and waiting.state is TabState.CANCELLED
    tab.apply(Cancelled(job_id="j1", at=T0 + 1, partial_text="some text", attempts=1, timings=Timings(submitted=T0)))
    assert running.state is TabState.CANCELLED and running.in_context and not tab.busy
    assert tab.state is TabState.CANCELLED and tab.label().startswith("■ ")


def test_thinking_export_and_restore() -> None:
    tab = TabModel("t1", "chat")
    turn = tab.add("think")
    start(tab, "j1")
    tab.apply(ThinkingDelta("j1", T0, "hmm"))
    tab.apply(TextDelta("j1", T0, "answer"))
    tab.apply(done("j1", "answer", thinking="hmm"))
    assert turn.thinking == "hmm"
    md = tab.to_markdown()
    assert md.startswith("# think\n") and "## You\n\nthink" in md and "<summary>thinking</summary>" in md
    assert "answer" in md and "*claude-sonnet-4-6 · TTFT" in md
    other = TabModel("t2", "restored", auto_title=False)
    back = other.restore(RestoredTurn("old q", "old a", "cancelled", "interrupted (from history)", user_message_id=4))
    assert back.state is TabState.CANCELLED and back.in_context and back.user_message_id == 4
    assert other.last_reply == "old a"


def test_the_tab_model_imports_no_textual() -> None:
    code = "import sys, claude_tui.ui.tab_model; print(sorted(m for m in sys.modules if m.startswith('textual')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
