"""A chat tab's behaviour without its widgets: its turns, its FIFO of prompts, the context it sends,
its state machine, retry, the branch operations (regenerate, edit a prompt, clear: the turns they
replace are kept in ``earlier``; the history keeps them as earlier branches) and export. No Textual here, so it is tested on its own (tests/ui/test_tab_model.py)
and ``ChatView`` only renders it.

Each turn needs the previous reply in its messages, so a tab runs one request at a time and keeps
its own queue of prompts typed meanwhile; across tabs, every request goes through the app's one pool.
The model learns everything about a request from the pool's events (``apply``), like every other
consumer; times are the engine's monotonic readings, which the widgets count down to.

Each tab has its own request settings (``settings``, a frozen ``ChatSettings``: model, system prompt,
max tokens, thinking), beside ``title``: ``ClaudeTUI._submit_turn`` builds every Job from them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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
    Throttled,
)

from claude_tui.engine.models import min_cacheable

from . import fmt
from .titles import TAB_LABEL_WIDTH, clip, title_from_prompt
from .chat_history import RestoredTurn
from .chat_settings import ChatSettings

Messages = tuple[dict[str, Any], ...]
Outcome = Done | Failed | Cancelled


#: Characters per token for the cache-breakpoint decision: the engine's local estimate (engine/budget.py).
CHARS_PER_TOKEN = 4
EPHEMERAL = {"type": "ephemeral"}


def with_cache_breakpoints(messages: Messages, *, system: str | None, model: str) -> tuple[Messages, bool]:
    """The context with prompt-cache breakpoints on its stable prefix, and whether to mark the system prompt.

    The stable prefix is what the next request sends again unchanged: the system prompt and the earlier
    turns. A breakpoint goes on the system prompt and on the last earlier reply, each only when the
    prefix up to it reaches the model's minimum cacheable length (shorter ones the API ignores, so the
    mark would only cost bytes). The new prompt is not marked: a write costs 1.25× input, and a prompt
    may get no follow-up; the next turn writes it as part of its prefix, the one after reads it.
    With a long system prompt the second turn reads it; with a long first prompt the third does.
    """
    minimum = min_cacheable(model) * CHARS_PER_TOKEN
    chars = len(system or "")
    cache_system = bool(system) and chars >= minimum
    for message in messages[:-1]:
        content = message.get("content")
        chars += len(content) if isinstance(content, str) else sum(len(str(b.get("text", ""))) for b in content or ())
    if len(messages) < 2 or chars < minimum:
        return messages, cache_system
    *earlier, last_reply, prompt = messages
    content = last_reply.get("content")
    blocks: list[dict[str, Any]] = [{"type": "text", "text": content}] if isinstance(content, str) else [dict(b) for b in content or ()]
    if not blocks or not blocks[-1].get("text"):
        return messages, cache_system  # an empty text block cannot carry a breakpoint
    blocks[-1]["cache_control"] = dict(EPHEMERAL)
    return (*earlier, {**last_reply, "content": blocks}, prompt), cache_system


class TabState(StrEnum):
    """Where a turn (and so its tab) is. A ``StrEnum``: ``TabState.DONE == "done"``."""

    IDLE = "idle"  # a tab with no turn yet
    PENDING = "pending"  # waiting for the previous reply in this tab
    QUEUED = "queued"  # in the pool's queue (``Turn.position`` ahead)
    THROTTLED = "throttled"  # the rate budget holds the attempt until ``Turn.throttled.deadline``
    WAITING = "waiting"  # the request is out; no token yet
    STREAMING = "streaming"
    BACKOFF = "backoff"  # an attempt failed; the next one starts at ``Turn.backoff.deadline``
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: The glyph a tab label shows for each state.
STATE_ICONS: dict[TabState, str] = {
    TabState.IDLE: "○",
    TabState.PENDING: "…",
    TabState.QUEUED: "◷",
    TabState.THROTTLED: "⧗",
    TabState.WAITING: "◌",
    TabState.STREAMING: "▶",
    TabState.BACKOFF: "↻",
    TabState.DONE: "✓",
    TabState.FAILED: "✗",
    TabState.CANCELLED: "■",
}
ACTIVE_STATES = frozenset({TabState.QUEUED, TabState.THROTTLED, TabState.WAITING, TabState.STREAMING, TabState.BACKOFF})
FINISHED_STATES = frozenset({TabState.DONE, TabState.FAILED, TabState.CANCELLED})


@dataclass(eq=False)
class Turn:
    """One exchange: the prompt and what is known about its reply (data only; widgets live in ChatView)."""

    prompt: str
    state: TabState = TabState.PENDING
    job_id: str | None = None
    position: int = 0  # requests ahead in the pool's queue, while QUEUED
    attempt: int = 0
    since: float | None = None  # monotonic: the current attempt's request went out (WAITING)
    first_token_at: float | None = None  # monotonic: the current attempt's first token (STREAMING)
    backoff: BackingOff | None = None  # while BACKOFF: the engine's deadline and why
    throttled: Throttled | None = None  # while THROTTLED: the budget's deadline and what binds
    thinking: str = ""
    footer: str = ""
    error: str = ""
    last_failure: str | None = None  # the last failed attempt's kind, in words
    failed_with_text: bool = False  # that attempt had streamed text (the next one restarts the reply)
    outcome: Outcome | None = None  # the terminal event (None for a restored or a never-sent turn)
    user_message_id: int | None = None  # where the history store keeps the prompt (a retry reuses it)
    assistant_message_id: int | None = None
    attempt_log: list[AttemptFailed | BackingOff] = field(default_factory=list, repr=False)  # for the error details
    _parts: list[str] = field(default_factory=list, repr=False)
    _thinking: list[str] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        """The reply's text: as streamed so far by the current attempt, the whole reply once done."""
        return "".join(self._parts)

    @text.setter
    def text(self, value: str) -> None:
        self._parts = [value] if value else []

    @property
    def in_context(self) -> bool:
        """Done turns (and cancelled ones with some text) go into the next request's messages."""
        return self.state is TabState.DONE or (self.state is TabState.CANCELLED and bool(self.text.strip()))

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


class TabModel:
    """One tab's conversation and request state."""

    def __init__(self, tab_id: str, title: str, *, auto_title: bool = True, settings: ChatSettings | None = None) -> None:
        self.tab_id = tab_id
        self.title = title
        self.settings = settings or ChatSettings()  # this chat's model, system prompt, max tokens, thinking
        self.auto_title = auto_title  # the title follows the first prompt until the user names the tab
        self.turns: list[Turn] = []
        self.pending: deque[Turn] = deque()
        self.active: Turn | None = None
        self.conversation_id: int | None = None  # the stored conversation, once the first prompt is saved
        self.titled = False  # the stored conversation has its final title
        self.earlier: list[list[Turn]] = []  # turns replaced by regenerate / edit / clear, oldest first
        self._jobs: dict[str, Turn] = {}

    # -- state -------------------------------------------------------------------------------
    @property
    def state(self) -> TabState:
        if self.active is not None:
            return self.active.state
        if self.pending:
            return TabState.PENDING
        return self.turns[-1].state if self.turns else TabState.IDLE

    @property
    def busy(self) -> bool:
        return self.active is not None or bool(self.pending)

    def label(self, index: int | None = None) -> str:
        """``2 ◷ #3 +1 title``: number (1–9), state, queue place, prompts waiting in this tab."""
        state = self.state
        extra = ""
        if state is TabState.QUEUED and self.active is not None:
            extra = f"#{self.active.position + 1} "
        if self.pending and self.active is not None:
            extra += f"+{len(self.pending)} "
        number = f"{index} " if index is not None and index <= 9 else ""
        return f"{number}{STATE_ICONS[state]} {extra}{clip(self.title, TAB_LABEL_WIDTH)}"

    # -- prompts -----------------------------------------------------------------------------
    def add(self, prompt: str) -> Turn | None:
        """A prompt for this tab (None if blank): it runs next, or after the replies ahead of it."""
        if not prompt.strip():
            return None
        if self.auto_title and not self.turns:
            self.title = title_from_prompt(prompt)  # whole: cut only where drawn (the label)
        turn = Turn(prompt)
        self.turns.append(turn)
        self.pending.append(turn)
        return turn

    def next_turn(self) -> Turn | None:
        """The turn to submit now, if the tab is free: it becomes the active one, QUEUED."""
        if self.active is not None or not self.pending:
            return None
        turn = self.pending.popleft()
        self._activate(turn)
        return turn

    def _activate(self, turn: Turn) -> None:
        self.active = turn
        turn.state = TabState.QUEUED
        turn.position = 0

    def submitted(self, turn: Turn, job_id: str) -> None:
        """The pool took ``turn`` as job ``job_id``: its events now apply to it."""
        turn.job_id = job_id
        self._jobs[job_id] = turn

    def context_before(self, turn: Turn) -> Messages:
        """The messages a request for ``turn`` carries: the earlier exchanges in context, then its prompt."""
        messages: list[dict[str, Any]] = []
        for earlier in self.turns:
            if earlier is turn:
                break
            if earlier.in_context:
                messages.append({"role": "user", "content": earlier.prompt})
                messages.append({"role": "assistant", "content": earlier.text.rstrip()})
        messages.append({"role": "user", "content": turn.prompt})
        return tuple(messages)

    # -- engine events -----------------------------------------------------------------------
    def turn_for(self, job_id: str) -> Turn | None:
        return self._jobs.get(job_id)

    def apply(self, event: JobEvent) -> Turn | None:
        """Advance the state machine; the turn the event belongs to (None: not this tab's job)."""
        turn = self._jobs.get(event.job_id)
        if turn is None:
            return None
        if isinstance(event, TextDelta):
            turn._parts.append(event.text)
        elif isinstance(event, ThinkingDelta):
            turn._thinking.append(event.text)
        elif isinstance(event, Queued):
            turn.state = TabState.QUEUED
            turn.position = event.position
        elif isinstance(event, Throttled):
            turn.state = TabState.THROTTLED
            turn.throttled = event
        elif isinstance(event, Started):
            if event.attempt > 1:  # a retried attempt starts its reply from scratch
                turn._parts.clear()
                turn._thinking.clear()
            turn.attempt = event.attempt
            turn.state = TabState.WAITING
            turn.since = event.at
            turn.first_token_at = None
        elif isinstance(event, FirstToken):
            turn.state = TabState.STREAMING
            turn.first_token_at = event.at
        elif isinstance(event, AttemptFailed):
            turn.last_failure = event.kind.replace("_", " ")
            turn.failed_with_text = bool(event.partial_text)
            turn.attempt_log.append(event)
        elif isinstance(event, BackingOff):
            turn.state = TabState.BACKOFF
            turn.backoff = event
            turn.attempt_log.append(event)
        elif isinstance(event, (Done, Failed, Cancelled)):
            self._finish(turn, event)
        return turn

    def _finish(self, turn: Turn, event: Outcome) -> None:
        self._jobs.pop(event.job_id, None)
        turn.outcome = event
        turn.backoff = turn.throttled = None
        if isinstance(event, Done):
            turn.state = TabState.DONE
            turn.text = event.text or turn.text
            turn.thinking = event.thinking or "".join(turn._thinking)
            turn.footer = fmt.footer_text(event)
        elif isinstance(event, Failed):
            turn.state = TabState.FAILED
            turn.text = turn.text or event.partial_text
            turn.thinking = "".join(turn._thinking)
            turn.error = event.message
        else:
            turn.state = TabState.CANCELLED
            turn.text = turn.text or event.partial_text
            turn.thinking = "".join(turn._thinking)
        if self.active is turn:
            self.active = None

    # -- commands ----------------------------------------------------------------------------
    def cancel_pending(self) -> list[Turn]:
        """Esc: the prompts waiting behind the active one are cancelled (they were never sent)."""
        cancelled = list(self.pending)
        self.pending.clear()
        for turn in cancelled:
            turn.state = TabState.CANCELLED
        return cancelled

    def retry(self) -> Turn | None:
        """Ctrl+R: the last turn again if it failed or was cancelled (QUEUED; the caller submits it)."""
        if self.busy or not self.turns:
            return None
        turn = self.turns[-1]
        if turn.state not in (TabState.FAILED, TabState.CANCELLED):
            return None
        turn.text = turn.error = turn.thinking = ""
        turn._thinking.clear()
        turn.last_failure = None
        turn.failed_with_text = False
        turn.outcome = None
        turn.attempt_log.clear()
        self._activate(turn)
        return turn

    # -- branches: regenerate, edit, clear (the replaced turns are kept in ``earlier``) -------
    def _replace_from(self, index: int, prompt: str, *, user_message_id: int | None = None) -> tuple[list[Turn], Turn]:
        replaced = self.turns[index:]
        del self.turns[index:]
        self.earlier.append(replaced)
        turn = Turn(prompt, user_message_id=user_message_id)
        self.turns.append(turn)
        self.pending.append(turn)
        return replaced, turn

    def regenerate(self) -> tuple[list[Turn], Turn] | None:
        """The last reply again: its prompt is sent again with the same context, as a new turn in its
        place (PENDING; ``next_turn`` runs it). Returns (the replaced turn, the new one)."""
        if self.busy or not self.turns or not self.turns[-1].finished:
            return None
        last = self.turns[-1]
        return self._replace_from(len(self.turns) - 1, last.prompt, user_message_id=last.user_message_id)

    def edit(self, turn: Turn, prompt: str) -> tuple[list[Turn], Turn] | None:
        """Send ``prompt`` in place of ``turn``'s: ``turn`` and every turn after it leave the
        conversation, the new one continues from the turns before it. Returns (replaced, new)."""
        if self.busy or turn not in self.turns or not prompt.strip():
            return None
        return self._replace_from(self.turns.index(turn), prompt)

    def clear(self) -> list[Turn] | None:
        """Empty the tab: the next prompt starts a fresh context. Returns the turns it held."""
        if self.busy:
            return None
        replaced, self.turns = self.turns, []
        if replaced:
            self.earlier.append(replaced)
        return replaced

    def restore(self, restored: RestoredTurn) -> Turn:
        """A finished turn read back from the history store (no request)."""
        turn = Turn(restored.prompt, state=TabState(restored.state), thinking=restored.thinking, footer=restored.footer,
                    user_message_id=restored.user_message_id, assistant_message_id=restored.assistant_message_id)
        turn.text = restored.text
        self.turns.append(turn)
        return turn

    # -- content -----------------------------------------------------------------------------
    @property
    def last_reply(self) -> str | None:
        for turn in reversed(self.turns):
            if turn.text.strip():
                return turn.text
        return None

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for turn in self.turns:
            lines += ["## You", "", turn.prompt, "", "## Claude", ""]
            thinking = turn.thinking or "".join(turn._thinking)
            if thinking:
                lines += ["<details><summary>thinking</summary>", "", thinking, "", "</details>", ""]
            lines += [turn.text, ""]
            if turn.state is TabState.DONE and turn.footer:
                lines += [f"*{turn.footer}*", ""]
            elif turn.state is TabState.FAILED:
                lines += [f"*failed: {turn.error}*", ""]
            elif turn.state is TabState.CANCELLED:
                lines += ["*cancelled*", ""]
        return "\n".join(lines).rstrip() + "\n"
