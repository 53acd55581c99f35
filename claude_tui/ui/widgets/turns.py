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
from textual.binding import Binding
from textual.message import Message
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Collapsible, Static

from claude_tui.engine.events import Cancelled, Done, Failed

from .. import fmt
from ..fmt import error_text, footer_text
from ..tab_model import TabState, Turn
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
    """The live status line of a reply, drawn from its turn's state (``show(turn)``).

    It ticks (10×/s) only while a spinner or a countdown is shown, and only counts down to the
    engine's deadlines (``BackingOff.deadline``, ``Throttled.deadline``): it never measures time itself.
    """

    def __init__(self) -> None:
        super().__init__("", markup=False, classes="reply-status")
        self.mode: TabState = TabState.PENDING
        self._turn: Turn | None = None
        self._timer: Timer | None = None
        self._frame = 0

    def show(self, turn: Turn) -> None:
        """Show what ``turn``'s state says (hidden while streaming and once finished)."""
        self._turn = turn
        state = turn.state
        self.mode = state
        self.set_class(state is TabState.BACKOFF, "-backoff")
        self.set_class(state is TabState.THROTTLED, "-throttled")
        self.display = state in _SHOWN
        if state in _TICKING:
            if self._timer is None:
                self._timer = self.set_interval(0.1, self._tick)
            self._tick()
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if state is TabState.PENDING:
            self.update("waiting for the previous reply in this tab")
        elif state is TabState.QUEUED:
            ahead = turn.position
            self.update(f"queued — {ahead} ahead" if ahead else "queued — next to start")
        else:
            self.update("")

    def clear(self) -> None:
        self.display = False
        self.mode = TabState.IDLE
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.update("")

    @property
    def text(self) -> str:
        return str(self.render())

    def _tick(self) -> None:
        turn = self._turn
        if turn is None:
            return
        now = time.monotonic()
        self._frame = (self._frame + 1) % len(SPINNER)
        if turn.state is TabState.WAITING and turn.since is not None:
            self.update(f"{SPINNER[self._frame]} waiting for the first token — {now - turn.since:.1f} s")
        elif turn.state is TabState.BACKOFF and turn.backoff is not None:
            self.update(f"↻ {fmt.countdown_text(turn.backoff, turn.backoff.deadline - now)}")
        elif turn.state is TabState.THROTTLED and turn.throttled is not None:
            self.update(f"⧗ {fmt.throttle_text(turn.throttled, turn.throttled.deadline - now)}")

    @property
    def remaining(self) -> float | None:
        """Seconds until the retry or until the budget has room (for tests and the tab label)."""
        turn = self._turn
        if turn is None:
            return None
        wait = turn.backoff if turn.state is TabState.BACKOFF else turn.throttled if turn.state is TabState.THROTTLED else None
        return max(0.0, wait.deadline - time.monotonic()) if wait is not None else None

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()


_SHOWN = frozenset({TabState.PENDING, TabState.QUEUED, TabState.THROTTLED, TabState.WAITING, TabState.BACKOFF})
_TICKING = frozenset({TabState.WAITING, TabState.BACKOFF, TabState.THROTTLED})


class ReplyFooter(Static):
    """The reply's last line. A failed reply's (the error line) opens the request's details: a click,
    or Enter once focused (Shift+Tab from the prompt reaches the last one)."""

    BINDINGS = [Binding("enter", "details", "Details", show=False)]

    class Opened(Message):
        def __init__(self, footer: "ReplyFooter") -> None:
            super().__init__()
            self.footer = footer

    def allow_focus(self) -> bool:
        return self.has_class("-error")  # only an error line is a focus stop

    def action_details(self) -> None:
        self.post_message(self.Opened(self))

    def on_click(self) -> None:
        if self.has_class("-error"):
            self.post_message(self.Opened(self))


class AssistantReply(Vertical):
    """The assistant's side of one exchange."""

    def __init__(self) -> None:
        super().__init__(classes="reply")
        self.status = ReplyStatus()
        self.note = Static("", markup=False, classes="reply-note")
        self.body = StreamingMarkdown(classes="reply-body")
        self.footer = ReplyFooter("", markup=False, classes="reply-footer")
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

    @property
    def thinking_box(self) -> Collapsible | None:
        """The collapsed "thinking" section above the answer (None until thinking arrives)."""
        return self._thinking_box

    @property
    def thinking_view(self) -> Static | None:
        """The thinking text inside ``thinking_box``."""
        return self._thinking

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
        self.footer.remove_class("-error")
        self.footer.tooltip = None
        self.note.display = False

    # -- endings -----------------------------------------------------------------------------
    # The footer and status change before the body's last render is awaited: the turn's model says
    # "done" already, and whoever reads the screen then (a test, the snapshot's normaliser) must see it.
    async def finish_done(self, event: Done) -> None:
        if not self.body.text and event.text:
            self.body.append(event.text)
        self.status.clear()
        self.outcome = "done"
        self.add_class("-done")
        self.footer.update(footer_text(event, getattr(self.app, "prices", None)))  # the app's table: config overrides
        self.footer.display = True
        await self.body.finish()

    async def finish_failed(self, event: Failed) -> None:
        if not self.body.text and event.partial_text:
            self.body.append(event.partial_text)
        self.status.clear()
        self.outcome = "failed"
        self.add_class("-failed")
        self.footer.update(f"{error_text(event)}\n  details: click here, or Shift+Tab to this line and Enter")
        self.footer.add_class("-error")
        self.footer.tooltip = "status, request id, every attempt and wait (Enter or click)"
        self.footer.display = True
        await self.body.finish()

    async def finish_cancelled(self, event: Cancelled | None) -> None:
        if event is not None and not self.body.text and event.partial_text:
            self.body.append(event.partial_text)
        self.status.clear()
        self.outcome = "cancelled"
        self.add_class("-cancelled")
        streamed = len(self.body.text)
        self.footer.update(f"■ cancelled (Esc){' — partial reply kept' if streamed else ''} · Ctrl+R to retry")
        self.footer.display = True
        await self.body.finish()
