"""ErrorDetailsScreen: what a failed request's one-line error leaves out — status code, error type,
request id, the whole message, and every attempt with its error and the wait before the next.

Everything comes from the turn's own engine events (``Turn.outcome`` and ``Turn.attempt_log``:
``AttemptFailed`` / ``BackingOff``), so it works without a history database; a failed turn restored
from the history (no events) shows its stored attempt rows instead. Texts are redacted once
more here (the engine already redacts where it builds an error): this screen is copyable.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from claude_tui.engine.events import AttemptFailed, BackingOff, Failed
from claude_tui.engine.redact import redact

from ..fmt import error_hint, kind_words
from ..tab_model import Turn

if TYPE_CHECKING:
    from claude_tui.store import Attempt

#: ``overloaded_error (529): Overloaded`` — how the engine labels an API error (engine/errors.py).
_API_TYPE = re.compile(r"^([a-z_]+_error) \(\d+\): ")


def api_error_type(message: str) -> str | None:
    """The API's ``error.type`` the engine put at the head of ``message``, if it did."""
    match = _API_TYPE.match(message)
    return match.group(1) if match else None


def _clock(monotonic_at: float) -> str:
    """A ``time.monotonic()`` reading as local wall-clock time, to the millisecond."""
    wall = time.time() - (time.monotonic() - monotonic_at)
    return time.strftime("%H:%M:%S", time.localtime(wall)) + f".{int(wall % 1 * 1000):03d}"


def _wall_clock(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) + f".{int(epoch % 1 * 1000):03d}"


def stored_lines(attempts: "Sequence[Attempt]") -> list[tuple[str, str]]:
    """The rows for a failed turn restored from history, from its stored attempt rows (no events
    survive a restart; the waits are the gaps between one attempt's end and the next one's start)."""
    rows: list[tuple[str, str]] = []
    last = attempts[-1]
    rows.append(("status", str(last.status_code) if last.status_code is not None else "— (no HTTP status)"))
    api_type = api_error_type(last.error_message or "")
    kind = last.error_kind or "unknown"
    rows.append(("type", f"{api_type} (the API's error type) · kind {kind}" if api_type else f"{kind}: {kind_words(kind)}"))
    rows.append(("request id", last.request_id or "— (none: the server did not answer with one)"))
    rows.append(("message", redact(last.error_message or "")))
    hint = error_hint(kind)
    if hint:
        rows.append(("hint", hint))
    rows.append(("attempts", f"{len(attempts)} (from the history)"))
    previous_end: float | None = None
    for row in attempts:
        if previous_end is not None and row.started_at is not None:
            rows.append(("wait", f"{row.started_at - previous_end:.2f} s, then attempt {row.attempt}"))
        status = f"{row.status_code} " if row.status_code is not None else ""
        took = f", {row.latency_ms / 1000:.2f} s" if row.latency_ms is not None else ""
        rows.append((f"attempt {row.attempt}", f"{_wall_clock(row.started_at)}{took}: {status}{row.error_kind or row.status}"))
        rows.append(("", f"request id {row.request_id or '—'}"))
        if row.error_message:
            rows.append(("", redact(row.error_message)))
        previous_end = row.ended_at
    return rows


def details_lines(turn: Turn, stored: "Sequence[Attempt]" = ()) -> list[tuple[str, str]]:
    """(label, value) rows: the outcome, then each attempt and wait in the order they happened.
    ``stored``: the history's attempt rows, used when the turn has no events (restored)."""
    if turn.outcome is None and stored:
        return stored_lines(stored)
    rows: list[tuple[str, str]] = []
    outcome = turn.outcome
    if isinstance(outcome, Failed):
        rows.append(("status", str(outcome.status_code) if outcome.status_code is not None else "— (no HTTP status)"))
        api_type = api_error_type(outcome.message)
        rows.append(("type", f"{api_type} (the API's error type) · kind {outcome.kind}" if api_type
                     else f"{outcome.kind}: {kind_words(outcome.kind)}"))
        rows.append(("request id", outcome.request_id or "— (none: the server did not answer with one)"))
        rows.append(("message", redact(outcome.message)))
        hint = error_hint(outcome.kind)
        if hint:
            rows.append(("hint", hint))
        retried = "retryable, attempts ran out" if outcome.retryable else "not retried: the same request would fail again"
        rows.append(("attempts", f"{outcome.attempts} ({retried})"))
    elif turn.error:
        rows.append(("message", redact(turn.error)))
    first = next((e.started for e in turn.attempt_log if isinstance(e, AttemptFailed)), None)
    for event in turn.attempt_log:
        if isinstance(event, AttemptFailed):
            status = f"{event.status_code} " if event.status_code is not None else ""
            offset = f"+{event.started - first:.1f} s" if first is not None else ""
            rows.append((f"attempt {event.attempt}",
                         f"{_clock(event.started)} ({offset}), {event.ended - event.started:.2f} s: {status}{event.kind}"))
            rows.append(("", f"request id {event.request_id or '—'}"))
            rows.append(("", redact(event.message)))
        elif isinstance(event, BackingOff):
            why = "the server's retry-after" if event.from_retry_after else "backoff"
            rows.append(("wait", f"{event.delay:.2f} s ({why}), then attempt {event.attempt + 1} of {event.max_attempts}"))
    return rows


def details_text(turn: Turn, stored: "Sequence[Attempt]" = ()) -> str:
    """The details as plain text (what ``c`` copies)."""
    rows = details_lines(turn, stored)
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


class ErrorDetailsScreen(ModalScreen[None]):
    """A failed request in full; Esc (Enter, q) closes, c copies the text."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
        Binding("c", "copy", "Copy"),
    ]

    def __init__(self, turn: Turn, stored: "Sequence[Attempt]" = ()) -> None:
        super().__init__(classes="dialog-screen error-details-screen")
        self.turn = turn
        self.stored = stored

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog error-details"):
            yield Label("Request failed — Esc closes · c copies", classes="dialog-title")
            yield Static(self._body(), classes="error-details-body")

    def _body(self) -> Table:
        """A grid, so a long value wraps inside its own column."""
        rows = details_lines(self.turn, self.stored) or [("", "no details: the history has no attempt of this reply")]
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column()
        for label, value in rows:
            table.add_row(label, Text(value, style="dim" if not label else ""))
        return table

    @property
    def text(self) -> str:
        return details_text(self.turn, self.stored)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("copied the error details", timeout=2)

    def action_close(self) -> None:
        self.dismiss(None)
