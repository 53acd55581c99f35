"""ChatView: one tab's widgets — the chat log, a user message and a reply widget per turn, the prompt box —
rendering the tab's :class:`~claude_tui.ui.tab_model.TabModel`, which holds everything else (turns, FIFO,
state machine, context, retry, export).

Engine events reach a ChatView through :meth:`push_event`, which only buffers and posts one ``Inbox``
message; the handler drains everything that piled up in one go — the model applies each event, the
widgets show the result (consecutive text deltas coalesced into one append) — so the pool listener
never renders. ``StateChanged`` tells the app to redraw the tab's label; ``TurnFinished`` that a turn ended.
"""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget

from claude_tui.engine.events import (
    BackingOff,
    Done,
    Failed,
    FirstToken,
    JobEvent,
    Queued,
    Started,
    Submitted,
    TextDelta,
    ThinkingDelta,
    Throttled,
)

from ..chat_history import RestoredTurn
from ..chat_settings import ChatSettings
from ..tab_model import ACTIVE_STATES, STATE_ICONS, Messages, Outcome, TabModel, TabState, Turn
from .chat_header import ChatHeader
from .prompt_box import PromptBox, PromptHistory
from .turns import AssistantReply, ReplyFooter, UserMessage

__all__ = ["ACTIVE_STATES", "STATE_ICONS", "ChatView", "Messages", "TabState", "Turn"]

#: submit(chat, turn, messages) -> job id
SubmitFn = Callable[["ChatView", Turn, Messages], str]
CancelFn = Callable[[str], bool]


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

        def __init__(self, chat: "ChatView", turn: Turn, event: Outcome | None) -> None:
            super().__init__()
            self.chat = chat
            self.turn = turn
            self.event = event

    def __init__(
        self,
        tab: TabModel,
        *,
        submit: SubmitFn,
        cancel: CancelFn,
        history: PromptHistory | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="chat-view")
        self.tab = tab
        self._submit = submit
        self._cancel = cancel
        self._widgets: dict[Turn, tuple[UserMessage, AssistantReply]] = {}
        self._inbox: list[JobEvent] = []
        self._inbox_posted = False
        self.header = ChatHeader(tab.settings)
        self.log_view = VerticalScroll(classes="chat-log")
        self.prompt = PromptBox(history, classes="prompt-box")

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.log_view
        yield self.prompt

    def on_mount(self) -> None:
        self.log_view.anchor()

    # -- the model, read through the view ---------------------------------------------------
    @property
    def tab_id(self) -> str:
        return self.tab.tab_id

    @property
    def title(self) -> str:
        return self.tab.title

    @property
    def turns(self) -> list[Turn]:
        return self.tab.turns

    @property
    def state(self) -> TabState:
        return self.tab.state

    @property
    def busy(self) -> bool:
        return self.tab.busy

    @property
    def conversation_id(self) -> int | None:
        return self.tab.conversation_id

    @property
    def settings(self) -> ChatSettings:
        return self.tab.settings

    @settings.setter
    def settings(self, value: ChatSettings) -> None:
        """The chat's next requests use ``value``; the header shows it."""
        self.tab.settings = value
        self.header.show(value)

    def label(self, index: int | None = None) -> str:
        return self.tab.label(index)

    def context_before(self, turn: Turn) -> Messages:
        return self.tab.context_before(turn)

    def to_markdown(self) -> str:
        return self.tab.to_markdown()

    # -- a turn's widgets --------------------------------------------------------------------
    def reply(self, turn: Turn) -> AssistantReply:
        """The widget showing ``turn``'s reply."""
        return self._widgets[turn][1]

    def user(self, turn: Turn) -> UserMessage:
        """The widget showing ``turn``'s prompt."""
        return self._widgets[turn][0]

    def _mount_turn(self, turn: Turn) -> AssistantReply:
        user, reply = UserMessage(turn.prompt), AssistantReply()
        self._widgets[turn] = (user, reply)
        self.log_view.mount(user, reply)
        return reply

    def _changed(self) -> None:
        self.post_message(self.StateChanged(self))

    # -- prompts -----------------------------------------------------------------------------
    def on_prompt_box_submitted(self, message: PromptBox.Submitted) -> None:
        message.stop()
        self.send(message.text)

    def send(self, prompt: str) -> Turn | None:
        """Add a prompt to this tab: it runs now, or after the replies ahead of it."""
        turn = self.tab.add(prompt)
        if turn is None:
            return None
        reply = self._mount_turn(turn)
        reply.call_after_refresh(self._show_pending, turn)
        self._start_next()
        self._changed()
        return turn

    def _show_pending(self, turn: Turn) -> None:
        if turn.state is TabState.PENDING:
            self.reply(turn).status.show(turn)

    def _start_next(self) -> None:
        turn = self.tab.next_turn()
        if turn is not None:
            self._run(turn)

    def _run(self, turn: Turn) -> None:
        self.tab.submitted(turn, self._submit(self, turn, self.tab.context_before(turn)))

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
            if isinstance(event, Submitted):
                continue  # the app routed it here; the turn knows its job already
            turn = self.tab.apply(event)
            if turn is None:
                continue
            if isinstance(event, TextDelta):
                if text_turn is not turn and text and text_turn is not None:
                    self.reply(text_turn).append("".join(text))
                    text.clear()
                text_turn = turn
                text.append(event.text)
                continue
            if text and text_turn is not None:
                self.reply(text_turn).append("".join(text))
                text.clear()
            changed |= await self._show_event(turn, event)
        if text and text_turn is not None:
            self.reply(text_turn).append("".join(text))
        if changed:
            self._changed()

    async def _show_event(self, turn: Turn, event: JobEvent) -> bool:
        """Show what ``event`` changed in ``turn``; True when the tab's label may change."""
        reply = self.reply(turn)
        if isinstance(event, ThinkingDelta):
            reply.append_thinking(event.text)
            return False
        if turn.finished:
            await self._finish(turn)
            return True
        if not isinstance(event, (Queued, Throttled, Started, FirstToken, BackingOff)):
            return False  # AttemptFailed, UsageUpdate, RateLimits: nothing on screen changes
        if isinstance(event, Started) and event.attempt > 1:
            reply.restart(event.attempt, turn.last_failure, interrupted=turn.failed_with_text)
        reply.status.show(turn)
        return True

    async def _finish(self, turn: Turn) -> None:
        reply = self.reply(turn)
        event = turn.outcome
        if isinstance(event, Done):
            await reply.finish_done(event)
        elif isinstance(event, Failed):
            await reply.finish_failed(event)
        else:
            await reply.finish_cancelled(event)
        self.post_message(self.TurnFinished(self, turn, event))
        self._start_next()

    # -- commands ----------------------------------------------------------------------------
    async def cancel(self) -> bool:
        """Esc: cancel the running or queued request and the prompts waiting behind it."""
        any_cancelled = False
        for turn in self.tab.cancel_pending():
            await self.reply(turn).finish_cancelled(None)
            self.post_message(self.TurnFinished(self, turn, None))
            any_cancelled = True
        active = self.tab.active
        if active is not None and active.job_id is not None:
            any_cancelled |= self._cancel(active.job_id)
        self._changed()
        return any_cancelled

    def retry(self) -> bool:
        """Ctrl+R: run the last turn again if it failed or was cancelled."""
        turn = self.tab.retry()
        if turn is None:
            return False
        reply = self.reply(turn)
        reply.prepare_retry()
        self._run(turn)
        reply.status.show(turn)
        self._changed()
        return True

    # -- branches: regenerate, edit, clear ---------------------------------------------------
    def regenerate(self) -> Turn | None:
        """The last reply again, as a new turn in its place (the replaced one leaves the view)."""
        replaced = self.tab.regenerate()
        return self._replace(*replaced) if replaced is not None else None

    def edit(self, turn: Turn, prompt: str) -> Turn | None:
        """Resend from ``turn`` with ``prompt``: it and the turns after it leave the view."""
        replaced = self.tab.edit(turn, prompt)
        return self._replace(*replaced) if replaced is not None else None

    def clear(self) -> bool:
        """Empty the view; the next prompt starts a fresh context."""
        replaced = self.tab.clear()
        if replaced is None:
            return False
        self._forget(replaced)
        self._changed()
        return True

    def _replace(self, replaced: list[Turn], turn: Turn) -> Turn:
        self._forget(replaced)
        self._mount_turn(turn)
        self._start_next()
        self.reply(turn).call_after_refresh(self.reply(turn).status.show, turn)
        self._changed()
        return turn

    def _forget(self, turns: list[Turn]) -> None:
        for turn in turns:
            widgets = self._widgets.pop(turn, None)
            if widgets is not None:
                for widget in widgets:
                    widget.remove()

    def on_reply_footer_opened(self, message: ReplyFooter.Opened) -> None:
        """A failed reply's error line was clicked or got Enter: its details, in a modal."""
        message.stop()
        for turn, (_user, reply) in self._widgets.items():
            if reply.footer is message.footer:
                self.show_details(turn)
                return

    class DetailsWanted(Message):
        """Show ``turn``'s error details (the app adds what the history stored for a restored turn)."""

        def __init__(self, chat: "ChatView", turn: Turn) -> None:
            super().__init__()
            self.chat = chat
            self.turn = turn

    def show_details(self, turn: Turn) -> None:
        self.post_message(self.DetailsWanted(self, turn))

    def cancel_all_quietly(self) -> None:
        """The tab is closing: cancel without touching widgets."""
        self.tab.pending.clear()
        active = self.tab.active
        if active is not None and active.job_id is not None:
            self._cancel(active.job_id)

    # -- content -----------------------------------------------------------------------------
    @property
    def last_reply(self) -> str | None:
        return self.tab.last_reply

    @property
    def last_code_block(self) -> str | None:
        for turn in reversed(self.tab.turns):
            blocks = self.reply(turn).body.code_blocks
            if blocks:
                return blocks[-1]
        return None

    # -- restore (history) -------------------------------------------------------------------
    def add_restored_turn(self, restored: RestoredTurn) -> Turn:
        """A finished turn loaded from history (rendered at once, no request), its thinking collapsed above it."""
        turn = self.tab.restore(restored)
        reply = self._mount_turn(turn)

        def fill() -> None:
            reply.status.clear()
            if turn.thinking:
                reply.append_thinking(turn.thinking)
            reply.append(turn.text)
            self.app.call_later(reply.body.finish)
            reply.outcome = turn.state
            reply.add_class(f"-{turn.state}")
            if turn.footer:
                reply.footer.update(turn.footer)
                reply.footer.display = True
            reply.footer.set_class(turn.state is TabState.FAILED, "-error")  # its stored attempts: Enter or a click

        reply.call_after_refresh(fill)
        return turn
