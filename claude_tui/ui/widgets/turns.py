"""One exchange in the chat log: the user's prompt and the assistant's reply.

The reply shows its own life: waiting for the previous reply, queued (position), a spinner with the
elapsed time until the first token, a live backoff countdown to the engine's deadline, the streamed
Markdown body, and a one-line footer (or an error with a hint, or "cancelled") when it ends.
Times shown are the engine's (``time.monotonic()`` readings); the widget only counts down to them.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Collapsible, Static

from claude_tui.engine.errors import WILL_FAIL_AGAIN
from claude_tui.engine.events import BackingOff, Cancelled, Done, Failed

from .. import fmt
from .streaming_markdown import StreamingMarkdown

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


#: How much of a prompt the chat shows. Wrapping a 2.2 MB paste for the screen took 19 s of the UI loop
#: (Textual re-wraps a Static's whole text at each layout), so the reply's "sending" showed ~25 s
#: late and the engine, on the same loop, timed out once before its 400. The full prompt is sent,
#: saved and exported; the chat shows its head.
SHOWN_CHARS = 8_000
SHOWN_LINES = 200


def shown_prompt(prompt: str) -> str:
    """The prompt as the chat shows it: whole, or its head and a line saying how much was sent."""
    lines = prompt.count("\n") + 1
    if len(prompt) <= SHOWN_CHARS and lines <= SHOWN_LINES:
        return prompt
    head = "\n".join(prompt[:SHOWN_CHARS].split("\n")[:SHOWN_LINES])
    return f"{head}\n… shown in part: {len(prompt):,} characters, {lines:,} lines sent (export has it all)"


class UserMessage(Static):
    """The prompt as sent (plain text, never parsed as markup; a huge one shown in part)."""

    def __init__(self, prompt: str) -> None:
        super().__init__(Text(shown_prompt(prompt)), markup=False, classes="user-message")
        self.prompt = prompt


class ReplyStatus(Static):
    """The live status line of a reply; ticks (10×/s) only while a countdown or spinner is shown."""

    def __init__(self) -> None:
        super().__init__("", markup=False, classes="reply-status")
        self.mode = "pending"
        self._since: float | None = None
        self._backoff: BackingOff | None = None
        self._timer: Timer | None = None
        self._frame = 0

    # -- states ------------------------------------------------------------------------------
    def show_pending(self) -> None:
        self._set("pending", "waiting for the previous reply in this tab")

    def show_queued(self, ahead: int) -> None:
        self._set("queued", f"queued — {ahead} ahead" if ahead else "queued — next to start")

    def show_waiting(self, since: float) -> None:
        self._since = since
        self._set("waiting", "")
        self._tick()

    def show_backoff(self, event: BackingOff) -> None:
        self._backoff = event
        self._set("backoff", "")
        self._tick()

    def show_streaming(self) -> None:
        self._set("streaming", "")

    def clear(self) -> None:
        self._set("idle", "")

    @property
    def text(self) -> str:
        return str(self.render())

    def _set(self, mode: str, text: str) -> None:
        self.mode = mode
        self.set_class(mode == "backoff", "-backoff")
        self.display = mode not in ("streaming", "idle")
        if mode in ("waiting", "backoff"):
            if self._timer is None:
                self._timer = self.set_interval(0.1, self._tick)
        elif self._timer is not None:
            self._timer.stop()
            self._timer = None
        if text or mode not in ("waiting", "backoff"):
            self.update(text)

    def _tick(self) -> None:
        now = time.monotonic()
        self._frame = (self._frame + 1) % len(SPINNER)
        if self.mode == "waiting" and self._since is not None:
            self.update(f"{SPINNER[self._frame]} waiting for the first token — {now - self._since:.1f} s")
        elif self.mode == "backoff" and self._backoff is not None:
            self.update(f"↻ {fmt.countdown_text(self._backoff, self._backoff.deadline - now)}")

    @property
    def remaining(self) -> float | None:
        """Seconds until the retry (for tests and the tab label)."""
        if self.mode != "backoff" or self._backoff is None:
            return None
        return max(0.0, self._backoff.deadline - time.monotonic())

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()


def footer_text(event: Done) -> str:
    t = event.timings
    gen = (t.latency - t.ttft) if (t.latency is not None and t.ttft is not None) else None
    out = event.usage.output_tokens
    tps = out / gen if gen and gen > 0 else None
    parts = [
        event.model,
        f"TTFT {fmt.ms(t.ttft)}",
        f"total {fmt.seconds(t.total)}",
        f"{out} tokens out",
        fmt.rate(tps, "tok/s") if tps is not None else "— tok/s",
        f"{fmt.money(event.cost)} (estimate)" if event.cost is not None else "cost unknown",
    ]
    if event.attempts > 1:
        parts.append(f"{event.attempts} attempts")
    if event.stop_reason == "max_tokens":
        parts.append("cut at max_tokens")
    elif event.stop_reason and event.stop_reason != "end_turn":
        parts.append(f"stop: {event.stop_reason}")
    return " · ".join(parts)


def error_text(event: Failed) -> str:
    hint = fmt.error_hint(event.kind)
    labelled = event.status_code is not None and f"({event.status_code})" in event.message
    lines = [f"✗ {event.message}" if labelled else f"✗ {fmt.kind_words(event.kind)}: {event.message}"]
    if hint:
        lines.append(f"  hint: {hint}")
    if event.retryable:
        lines.append(f"  gave up after {event.attempts} attempt{'s' if event.attempts != 1 else ''}")
    if event.kind not in WILL_FAIL_AGAIN:
        lines.append("  press Ctrl+R to retry")
    return "\n".join(lines)


class AssistantReply(Vertical):
    """The assistant's side of one exchange."""

    def __init__(self) -> None:
        super().__init__(classes="reply")
        self.status = ReplyStatus()
        self.note = Static("", markup=False, classes="reply-note")
        self.body = StreamingMarkdown(classes="reply-body")
        self.footer = Static("", markup=False, classes="reply-footer")
        self._thinking: Static | None = None
        self._thinking_box: Collapsible | None = None
        self._thinking_text: list[str] = []
        self.outcome: str | None = None  # done / failed / cancelled

    def compose(self) -> ComposeResult:
        yield self.note
        yield self.body
        yield self.status
        yield self.footer

    def on_mount(self) -> None:
        self.note.display = False
        self.footer.display = False

    # -- streaming ---------------------------------------------------------------------------
    def append(self, text: str) -> None:
        if text:
            self.body.append(text)

    def append_thinking(self, text: str) -> None:
        if not text:
            return
        self._thinking_text.append(text)
        if self._thinking is None:
            self._thinking = Static("", markup=False, classes="thinking-text")
            self._thinking_box = Collapsible(self._thinking, title="thinking", collapsed=True, classes="thinking")
            self.mount(self._thinking_box, before=self.body)
        self._thinking.update("".join(self._thinking_text))

    @property
    def thinking(self) -> str:
        return "".join(self._thinking_text)

    def restart(self, attempt: int, reason: str | None, *, interrupted: bool = True) -> None:
        """A retried attempt starts its text from scratch; say why there is another attempt."""
        self.body.reset()
        self._thinking_text.clear()
        if self._thinking is not None:
            self._thinking.update("")
        why = f" ({reason})" if reason else ""
        if interrupted:  # the previous attempt had streamed text: this one starts the reply over
            self.note.update(f"↺ attempt {attempt - 1} was interrupted{why}; attempt {attempt} restarts the reply")
        else:
            self.note.update(f"↺ attempt {attempt}: attempt {attempt - 1} failed before any text{why}")
        self.note.display = True

    def prepare_retry(self) -> None:
        self.body.reset()
        self.outcome = None
        self.remove_class("-failed", "-cancelled", "-done")
        self.footer.update("")
        self.footer.display = False
        self.note.display = False

    # -- endings -----------------------------------------------------------------------------
    async def finish_done(self, event: Done) -> None:
        if not self.body.text and event.text:
            self.body.append(event.text)
        await self.body.finish()
        self.status.clear()
        self.outcome = "done"
        self.add_class("-done")
        self.footer.update(footer_text(event))
        self.footer.display = True

    async def finish_failed(self, event: Failed) -> None:
        if not self.body.text and event.partial_text:
            self.body.append(event.partial_text)
        await self.body.finish()
        self.status.clear()
        self.outcome = "failed"
        self.add_class("-failed")
        self.footer.update(error_text(event))
        self.footer.display = True

    async def finish_cancelled(self, event: Cancelled | None) -> None:
        if event is not None and not self.body.text and event.partial_text:
            self.body.append(event.partial_text)
        await self.body.finish()
        self.status.clear()
        self.outcome = "cancelled"
        self.add_class("-cancelled")
        streamed = len(self.body.text)
        self.footer.update(f"■ cancelled (Esc){' — partial reply kept' if streamed else ''} · Ctrl+R to retry")
        self.footer.display = True
