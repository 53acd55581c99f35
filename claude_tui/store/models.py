"""What the history store hands back: plain frozen dataclasses (no sqlite rows leak out)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..engine.percentiles import percentile


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    conversation_id: int
    role: str  # "user" | "assistant"
    text: str
    thinking: str
    stop_reason: str | None
    usage: dict[str, int] | None
    cost: float | None
    status: str  # complete | streaming | interrupted | failed | cancelled
    created_at: float  # epoch seconds
    updated_at: float
    branch: int | None = None  # None: on the live branch; else the earlier branch it was moved to


@dataclass(frozen=True, slots=True)
class Branch:
    """An earlier branch: the messages an action (regenerate, edit, clear, retry) took off the live path.

    ``after`` is the message it forked after (the last message both paths share; None: from the
    start), so the whole earlier conversation is the path up to ``after`` and then ``messages``.
    """

    id: int
    kind: str  # regenerate | edit | clear | retry
    created_at: float  # epoch seconds: when it stopped being live
    after: int | None
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    title: str
    model: str
    system: str | None
    created_at: float
    updated_at: float
    open_tab: int | None
    messages: tuple[Message, ...] = ()  # the live branch
    branches: tuple[Branch, ...] = ()  # earlier branches, oldest first (``get_conversation(..., branches=True)``)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["messages"] = [asdict(m) for m in self.messages]
        data["branches"] = [asdict(b) for b in self.branches]
        return data

    def api_messages(self) -> list[dict[str, str]]:
        """The conversation in the Messages API's shape, for continuing it.

        User messages, plus assistant messages with text (a complete reply, or the part kept
        from an interrupted one). Consecutive same-role messages are joined so roles alternate.
        """
        out: list[dict[str, str]] = []
        for m in self.messages:
            if m.role == "assistant" and not m.text:
                continue
            if out and out[-1]["role"] == m.role:
                out[-1] = {"role": m.role, "content": out[-1]["content"] + "\n\n" + m.text}
            else:
                out.append({"role": m.role, "content": m.text})
        return out


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: int
    title: str
    model: str
    created_at: float
    updated_at: float
    open_tab: int | None
    message_count: int
    preview: str  # the start of the first user message


#: A run of a search snippet: (text, whether it is a match).
Segment = tuple[str, bool]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One conversation found by full-text search (``HistoryStore.search``).

    ``marked_title`` and ``snippet`` are runs of text with the matched words marked, for each front
    end to highlight its own way. ``snippet`` is from the best-ranked matching message (empty when
    only the title matched); ``role`` is that message's role. A match on the live branch is preferred
    to one in an earlier branch.
    """

    id: int
    title: str
    model: str
    created_at: float
    updated_at: float
    message_count: int
    message_id: int | None
    role: str | None
    marked_title: tuple[Segment, ...]
    snippet: tuple[Segment, ...]
    #: the snippet's message was replaced (regenerate, edit, clear): opening the conversation shows
    #: its live branch, where this text is not; ``history show ID`` lists the earlier branches
    earlier_branch: bool = False

    @property
    def snippet_text(self) -> str:
        return "".join(text for text, _ in self.snippet)


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    job_id: str
    conversation_id: int | None
    message_id: int | None
    model: str | None
    attempt: int
    status: str  # ok | error (was retried) | failed (the last one) | cancelled
    error_kind: str | None
    error_message: str | None
    status_code: int | None
    started_at: float | None
    ended_at: float | None
    ttft_ms: float | None
    latency_ms: float | None
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost: float | None
    request_id: str | None
    retries: int


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    count: int = 0


@dataclass(frozen=True, slots=True)
class StatsRow:
    """One day (local time) and model. Latencies in milliseconds, over successful attempts."""

    day: str  # YYYY-MM-DD
    model: str
    requests: int  # attempts sent
    jobs: int  # distinct jobs
    errors: int  # attempts that did not succeed
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost: float
    latency_ms: Percentiles = field(default_factory=Percentiles)
    ttft_ms: Percentiles = field(default_factory=Percentiles)


def percentiles(values: list[float]) -> Percentiles:
    return Percentiles(percentile(values, 50), percentile(values, 95), percentile(values, 99), len(values))
