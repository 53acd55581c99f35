"""ChatView on a small host app: it renders its TabModel from the engine's events (oterm's habit).

No pool and no simulator here: the host's ``submit`` records the request a tab makes, and the test
hands the view the events the pool would emit for it, built with the engine's own types.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import App, ComposeResult

from claude_tui.engine.events import (
    AttemptFailed,
    BackingOff,
    Cancelled,
    Done,
    FirstToken,
    JobEvent,
    Queued,
    Started,
    TextDelta,
    Throttled,
    Timings,
    Usage,
)
from claude_tui.ui.tab_model import Messages, TabModel, TabState, Turn
from claude_tui.ui.widgets.chat_view import ChatView

from .conftest import wait_for


class Host(App[None]):
    """One ChatView; submitted requests and cancels are recorded instead of reaching a pool."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, Messages]] = []
        self.cancelled: list[str] = []
        self.finished: list[Turn] = []
        self.chat = ChatView(TabModel("t1", "chat 1"), submit=self.submit, cancel=self.cancel)

    def compose(self) -> ComposeResult:
        yield self.chat

    def submit(self, chat: ChatView, turn: Turn, messages: Messages) -> str:
        job_id = f"job-{len(self.requests) + 1}"
        self.requests.append((job_id, messages))
        return job_id

    def cancel(self, job_id: str) -> bool:
        self.cancelled.append(job_id)
        return True

    def on_chat_view_turn_finished(self, message: ChatView.TurnFinished) -> None:
        self.finished.append(message.turn)


def feed(chat: ChatView, *events: JobEvent) -> None:
    for event in events:
        chat.push_event(event)


def done(job_id: str, text: str, *, attempts: int = 1) -> Done:
    now = time.monotonic()
    return Done(job_id=job_id, at=now, text=text, thinking="", usage=Usage(input_tokens=3, output_tokens=5),
                stop_reason="end_turn", model="claude-sonnet-4-6", request_id="req_1", attempts=attempts,
                timings=Timings(submitted=now - 1, started=now - 0.9, first_token=now - 0.7, finished=now), cost=0.0001)


async def test_fifo_queue_position_streaming_and_the_next_prompt_with_its_context() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        chat = app.chat
        first, second = chat.send("first question"), chat.send("second question")
        assert first is not None and second is not None
        assert [job for job, _ in app.requests] == ["job-1"]  # one request at a time per tab
        await wait_for(pilot, lambda: "previous reply" in chat.reply(second).status.text, what="the second waits")
        feed(chat, Queued("job-1", time.monotonic(), 2))
        await wait_for(pilot, lambda: chat.reply(first).status.text == "queued — 2 ahead", what="queue position")
        assert chat.label(1) == "1 ◷ #3 +1 first question"
        now = time.monotonic()
        feed(chat, Started("job-1", now, 1), FirstToken("job-1", now, 0.2, 1), TextDelta("job-1", now, "the "),
             TextDelta("job-1", now, "answer"))
        await wait_for(pilot, lambda: chat.reply(first).body.text == "the answer", what="streamed text")
        assert first.state is TabState.STREAMING and not chat.reply(first).status.display
        feed(chat, done("job-1", "the answer"))
        await wait_for(pilot, lambda: len(app.requests) == 2, what="the next prompt submitted")
        assert "TTFT 200 ms" in str(chat.reply(first).footer.render()) and app.finished == [first]
        assert [m["role"] for m in app.requests[1][1]] == ["user", "assistant", "user"]
        assert app.requests[1][1][1]["content"] == "the answer"


async def test_throttled_counts_down_to_the_budget_then_backoff_then_a_restarted_attempt() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        chat = app.chat
        turn = chat.send("paced")
        assert turn is not None
        now = time.monotonic()
        feed(chat, Throttled(job_id="job-1", at=now, dimension="output_tokens", delay=30.0, deadline=now + 30.0,
                             model_class="sonnet-4"))
        status = chat.reply(turn).status
        await wait_for(pilot, lambda: status.text.startswith("⧗ waiting for output-token budget — "), what="throttled")
        first_text, first_left = status.text, status.remaining
        await wait_for(pilot, lambda: status.text != first_text, what="the countdown moves")
        assert status.remaining is not None and first_left is not None and status.remaining < first_left
        assert chat.label().startswith("⧗ ") and turn.state == "throttled"
        now = time.monotonic()
        feed(chat, Started("job-1", now, 1), TextDelta("job-1", now, "half"),
             AttemptFailed(job_id="job-1", at=now, attempt=1, kind="disconnect", message="dropped", status_code=None,
                           retryable=True, request_id=None, partial_text="half", usage=Usage(), started=now, ended=now),
             BackingOff(job_id="job-1", at=now, attempt=1, max_attempts=5, delay=30.0, deadline=now + 30.0,
                        reason="disconnect", status_code=None, message="dropped", from_retry_after=False))
        await wait_for(pilot, lambda: status.text.startswith("↻ ") and "retry 2/5 in" in status.text, what="backoff")
        assert chat.label().startswith("↻ ")
        feed(chat, Started("job-1", time.monotonic(), 2))
        reply = chat.reply(turn)
        await wait_for(pilot, lambda: "attempt 1 was interrupted (disconnect)" in str(reply.note.render()), what="restart")
        assert reply.body.text == "" and turn.text == ""


async def test_escape_cancels_the_running_request_and_the_prompts_behind_it_then_retry() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        chat = app.chat
        running, waiting = chat.send("long"), chat.send("behind")
        assert running is not None and waiting is not None
        now = time.monotonic()
        feed(chat, Started("job-1", now, 1), TextDelta("job-1", now, "partial"))
        await wait_for(pilot, lambda: chat.reply(running).body.text == "partial", what="some text")
        assert await chat.cancel()
        assert app.cancelled == ["job-1"] and waiting.state is TabState.CANCELLED
        feed(chat, Cancelled(job_id="job-1", at=time.monotonic(), partial_text="partial", attempts=1,
                             timings=Timings(submitted=now)))
        await wait_for(pilot, lambda: running.state is TabState.CANCELLED, what="cancelled")
        await wait_for(pilot, lambda: "partial reply kept" in str(chat.reply(running).footer.render()), what="footer")
        # Ctrl+R runs the last turn again — the prompt that never went out — with the kept text as context
        assert chat.retry() and app.requests[-1][0] == "job-2" and waiting.state is TabState.QUEUED
        assert [m["content"] for m in app.requests[-1][1]] == ["long", "partial", "behind"]
        assert not chat.retry()  # busy again


def test_the_host_builds_nothing_from_the_pool() -> None:
    """The view's only ways out are the two callbacks the host gives it."""
    chat: Any = ChatView(TabModel("t9", "x"), submit=lambda *a: "j", cancel=lambda j: False)
    assert chat.tab.tab_id == "t9" and chat.turns == [] and chat.state is TabState.IDLE
