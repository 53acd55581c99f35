"""ChatView: one tab's conversation — the chat log, its turns, its FIFO of pending prompts, and the prompt box.

Each turn needs the previous reply in its messages, so a tab runs one request at a time and keeps its
own queue of prompts typed meanwhile; across tabs, every request goes through the app's shared pool.

Engine events reach a ChatView through :meth:`push_event`, which only buffers and posts one ``Inbox``
message; the handler drains everything that piled up in one go (coalescing text deltas), so the pool
listener never renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget

from claude_tui.engine.events import (
    AttemptFailed,
    BackingOff,
    Cancelled,
    Done,
    Failed,
    FirstToken,
    JobEvent,
    Queued,
    Started,
    TextDelta,
    ThinkingDelta,
)

from .prompt_box import PromptBox, PromptHistory
from .turns import AssistantReply, UserMessage, footer_text
from .titles import TAB_LABEL_WIDTH, clip, title_from_prompt

Messages = tuple[dict[str, Any], ...]
#: submit(chat, turn, messages) -> job id
SubmitFn = Callable[["ChatView", "Turn", Messages], str]
CancelFn = Callable[[str], bool]

#: Tab states, with the glyph the tab label shows.
STATE_ICONS: dict[str, str] = {
    "idle": "○",
    "pending": "…",
    "queued": "◷",
    "waiting": "◌",
    "streaming": "▶",
    "backoff": "↻",
    "done": "✓",
    "failed": "✗",
    "cancelled": "■",
}
ACTIVE_STATES = frozenset({"queued", "waiting", "streaming", "backoff"})


@dataclass(eq=False)
class Turn:
    prompt: str
    user: UserMessage
    reply: AssistantReply
    state: str = "pending"
    job_id: str | None = None
    position: int = 0
    text: str = ""
    thinking: str = ""
    footer: str = ""
    error: str = ""
    last_failure: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. the history store's ids

    @property
    def in_context(self) -> bool:
        """Done turns (and cancelled ones with some text) go into the next request's messages."""
        return self.state == "done" or (self.state == "cancelled" and bool(self.text.strip()))


class ChatView(Widget):
    """A tab's body."""

    class Inbox(Message, bubble=False):
        """Engine events are waiting in the buffer."""

    class StateChanged(Message):
        def __init__(self, chat: "ChatView") -> None:
            super().__init__()
            self.chat = chat

    class TurnFinished(Message):
        """A turn reached done / failed / cancelled (for the history store and the app)."""

        def __init__(self, chat: "ChatView", turn: Turn, event: JobEvent | None) -> None:
            super().__init__()
            self.chat = chat
            self.turn = turn
            self.event = event

    def __init__(
        self,
        tab_id: str,
        title: str,
        *,
        submit: SubmitFn,
        cancel: CancelFn,
        history: PromptHistory | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="chat-view")
        self.tab_id = tab_id
        self.title = title
        self.auto_title = True
        self._submit = submit
        self._cancel = cancel
        self.turns: list[Turn] = []
        self.pending: list[Turn] = []
        self.active: Turn | None = None
        self._jobs: dict[str, Turn] = {}
        self._inbox: list[JobEvent] = []
        self._inbox_posted = False
        self.log_view = VerticalScroll(classes="chat-log")
        self.prompt = PromptBox(history, classes="prompt-box")
        self.meta: dict[str, Any] = {}  # e.g. the history store's conversation id

    def compose(self) -> ComposeResult:
        yield self.log_view
        yield self.prompt

    def on_mount(self) -> None:
        self.log_view.anchor()

    # -- state -------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        if self.active is not None:
            return self.active.state
        if self.pending:
            return "pending"
        return self.turns[-1].state if self.turns else "idle"

    @property
    def busy(self) -> bool:
        return self.active is not None or bool(self.pending)

    def label(self, index: int | None = None) -> str:
        state = self.state
        icon = STATE_ICONS.get(state, "?")
        extra = ""
        if state == "queued" and self.active is not None:
            extra = f"#{self.active.position + 1} "
        if self.pending and self.active is not None:
            extra += f"+{len(self.pending)} "
        number = f"{index} " if index is not None and index <= 9 else ""
        return f"{number}{icon} {extra}{clip(self.title, TAB_LABEL_WIDTH)}"

    def _changed(self) -> None:
        self.post_message(self.StateChanged(self))

    # -- prompts -----------------------------------------------------------------------------
    def on_prompt_box_submitted(self, message: PromptBox.Submitted) -> None:
        message.stop()
        self.send(message.text)

    def send(self, prompt: str) -> Turn | None:
        """Add a prompt to this tab: it runs now, or after the replies ahead of it."""
        if not prompt.strip():
            return None
        if self.auto_title and not self.turns:
            self.title = title_from_prompt(prompt)  # whole: cut only where drawn (label)
        turn = Turn(prompt, UserMessage(prompt), AssistantReply())
        self.turns.append(turn)
        self.log_view.mount(turn.user, turn.reply)
        self.pending.append(turn)
        turn.reply.call_after_refresh(self._show_pending, turn)
        if self.active is None:
            self._start_next()
        self._changed()
        return turn

    def _show_pending(self, turn: Turn) -> None:
        if turn.state == "pending":
            turn.reply.status.show_pending()

    def context_before(self, turn: Turn) -> Messages:
        messages: list[dict[str, Any]] = []
        for earlier in self.turns:
            if earlier is turn:
                break
            if earlier.in_context:
                messages.append({"role": "user", "content": earlier.prompt})
                messages.append({"role": "assistant", "content": earlier.text.rstrip()})
        messages.append({"role": "user", "content": turn.prompt})
        return tuple(messages)

    def _start_next(self) -> None:
        while self.active is None and self.pending:
            turn = self.pending.pop(0)
            self._run(turn)

    def _run(self, turn: Turn) -> None:
        self.active = turn
        turn.state = "queued"
        turn.position = 0
        job_id = self._submit(self, turn, self.context_before(turn))
        turn.job_id = job_id
        self._jobs[job_id] = turn

    # -- engine events -----------------------------------------------------------------------
    def push_event(self, event: JobEvent) -> None:
        """Called by the app's pool listener: buffer, and post one message per batch."""
        self._inbox.append(event)
        if not self._inbox_posted:
            self._inbox_posted = True
            self.post_message(self.Inbox())

    async def on_chat_view_inbox(self, _message: Inbox) -> None:
        self._inbox_posted = False
        events, self._inbox = self._inbox, []
        changed = False
        text: list[str] = []
        text_turn: Turn | None = None
        for event in events:
            turn = self._jobs.get(event.job_id)
            if turn is None:
                continue
            if isinstance(event, TextDelta):
                if text_turn is not turn and text:
                    text_turn.reply.append("".join(text))  # type: ignore[union-attr]
                    text.clear()
                text_turn = turn
                text.append(event.text)
                continue
            if text and text_turn is not None:
                text_turn.reply.append("".join(text))
                text.clear()
            changed |= await self._apply(turn, event)
        if text and text_turn is not None:
            text_turn.reply.append("".join(text))
        if changed:
            self._changed()

    async def _apply(self, turn: Turn, event: JobEvent) -> bool:
        reply = turn.reply
        if isinstance(event, Queued):
            turn.state = "queued"
            turn.position = event.position
            reply.status.show_queued(event.position)
            return True
        if isinstance(event, Started):
            if event.attempt > 1:
                reply.restart(event.attempt, turn.last_failure, interrupted=bool(turn.meta.get("failed_with_text")))
            turn.state = "waiting"
            reply.status.show_waiting(event.at)
            return True
        if isinstance(event, FirstToken):
            turn.state = "streaming"
            reply.status.show_streaming()
            return True
        if isinstance(event, ThinkingDelta):
            reply.append_thinking(event.text)
            return False
        if isinstance(event, AttemptFailed):
            turn.last_failure = event.kind.replace("_", " ")
            turn.meta["failed_with_text"] = bool(event.partial_text)
            return False
        if isinstance(event, BackingOff):
            turn.state = "backoff"
            reply.status.show_backoff(event)
            return True
        if isinstance(event, (Done, Failed, Cancelled)):
            await self._finish(turn, event)
            return True
        return False

    async def _finish(self, turn: Turn, event: Done | Failed | Cancelled) -> None:
        self._jobs.pop(event.job_id, None)
        reply = turn.reply
        if isinstance(event, Done):
            await reply.finish_done(event)
            turn.state = "done"
            turn.text = event.text or reply.body.text
            turn.thinking = event.thinking
            turn.footer = footer_text(event)
        elif isinstance(event, Failed):
            await reply.finish_failed(event)
            turn.state = "failed"
            turn.text = reply.body.text
            turn.error = event.message
        else:
            await reply.finish_cancelled(event)
            turn.state = "cancelled"
            turn.text = reply.body.text
        if self.active is turn:
            self.active = None
        self.post_message(self.TurnFinished(self, turn, event))
        self._start_next()

    # -- commands ----------------------------------------------------------------------------
    async def cancel(self) -> bool:
        """Esc: cancel the running or queued request and the prompts waiting behind it."""
        any_cancelled = False
        for turn in self.pending:
            turn.state = "cancelled"
            await turn.reply.finish_cancelled(None)
            self.post_message(self.TurnFinished(self, turn, None))
            any_cancelled = True
        self.pending.clear()
        if self.active is not None and self.active.job_id is not None:
            any_cancelled |= self._cancel(self.active.job_id)
        self._changed()
        return any_cancelled

    def retry(self) -> bool:
        """Ctrl+R: run the last turn again if it failed or was cancelled."""
        if self.busy or not self.turns:
            return False
        turn = self.turns[-1]
        if turn.state not in ("failed", "cancelled"):
            return False
        turn.reply.prepare_retry()
        turn.text = turn.error = ""
        turn.last_failure = None
        self._run(turn)
        turn.reply.status.show_queued(0)
        self._changed()
        return True

    def cancel_all_quietly(self) -> None:
        """The tab is closing: cancel without touching widgets."""
        self.pending.clear()
        if self.active is not None and self.active.job_id is not None:
            self._cancel(self.active.job_id)

    # -- content -----------------------------------------------------------------------------
    @property
    def last_reply(self) -> str | None:
        for turn in reversed(self.turns):
            text = turn.reply.body.text
            if text.strip():
                return text
        return None

    @property
    def last_code_block(self) -> str | None:
        for turn in reversed(self.turns):
            blocks = turn.reply.body.code_blocks
            if blocks:
                return blocks[-1]
        return None

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for turn in self.turns:
            lines += ["## You", "", turn.prompt, "", "## Claude", ""]
            if turn.thinking or turn.reply.thinking:
                thinking = turn.thinking or turn.reply.thinking
                lines += ["<details><summary>thinking</summary>", "", thinking, "", "</details>", ""]
            lines += [turn.reply.body.text or "", ""]
            if turn.state == "done" and turn.footer:
                lines += [f"*{turn.footer}*", ""]
            elif turn.state == "failed":
                lines += [f"*failed: {turn.error}*", ""]
            elif turn.state == "cancelled":
                lines += ["*cancelled*", ""]
        return "\n".join(lines).rstrip() + "\n"

    # -- restore (history) -------------------------------------------------------------------
    def add_restored_turn(self, prompt: str, text: str, *, state: str = "done", footer: str = "", meta: dict[str, Any] | None = None,
                          thinking: str = "") -> Turn:
        """A finished turn loaded from history (rendered at once, no request), its thinking collapsed above it."""
        turn = Turn(prompt, UserMessage(prompt), AssistantReply(), state=state, text=text, thinking=thinking, footer=footer,
                    meta=dict(meta or {}))
        self.turns.append(turn)
        self.log_view.mount(turn.user, turn.reply)

        def fill() -> None:
            turn.reply.status.clear()
            if thinking:
                turn.reply.append_thinking(thinking)
            turn.reply.append(text)
            self.app.call_later(turn.reply.body.finish)
            turn.reply.outcome = state
            turn.reply.add_class(f"-{state}")
            if footer:
                turn.reply.footer.update(footer)
                turn.reply.footer.display = True

        turn.reply.call_after_refresh(fill)
        return turn
