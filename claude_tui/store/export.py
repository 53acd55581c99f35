"""Conversations as Markdown or JSON (used by ``claude-tui history export`` and the app)."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from .models import Conversation, Message

FORMATS = ("md", "json")


def _when(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def conversation_to_dict(conv: Conversation) -> dict[str, Any]:
    """The full structure, timestamps as ISO 8601 strings (epoch seconds kept alongside)."""
    data = conv.to_dict()
    data.pop("open_tab", None)
    for item in [data, *data["messages"], *data["branches"], *(m for b in data["branches"] for m in b["messages"])]:
        for key in ("created_at", "updated_at"):
            if key in item:  # a branch has no updated_at
                item[key.replace("_at", "")] = _when(item[key])
    data["format"] = "claude-tui.conversation/1"
    return data


def to_json(conv: Conversation) -> str:
    return json.dumps(conversation_to_dict(conv), indent=2, ensure_ascii=False) + "\n"


_ROLE = {"user": "User", "assistant": "Assistant"}
_STATUS_NOTE = {
    "interrupted": "interrupted: the app stopped while this reply was streaming",
    "failed": "failed: the request failed after this much of the reply",
    "cancelled": "cancelled",
    "streaming": "still streaming when exported",
}


def to_markdown(conv: Conversation) -> str:
    out = [f"# {conv.title or f'Conversation {conv.id}'}", ""]
    out.append(f"- Model: `{conv.model}`")
    out.append(f"- Created: {_when(conv.created_at)}")
    out.append(f"- Updated: {_when(conv.updated_at)}")
    total = sum(m.cost or 0.0 for m in conv.messages)
    if total:
        out.append(f"- Estimated cost: ${total:.4f}")
    out.append("")
    if conv.system:
        out += ["## System", "", conv.system, ""]
    out += _forks(conv, None)
    out += _messages(conv, conv.messages, "##")
    if conv.branches:
        out += ["---", "", "## Earlier branches", ""]
        for b in conv.branches:
            where = f"after message {b.after}" if b.after is not None else "from the start"
            out += [f"### Branch {b.id}: {_BRANCH_WORDS.get(b.kind, b.kind)} at {_when(b.created_at)}, {where}", ""]
            out += _messages(conv, b.messages, "####")
    return "\n".join(out).rstrip("\n") + "\n"


#: Why an earlier branch left the live path, as its heading says it.
_BRANCH_WORDS = {"regenerate": "replaced by a regenerated reply", "edit": "replaced by an edited prompt",
                 "clear": "cleared", "retry": "replaced by a retry"}


def _forks(conv: Conversation, after: int | None) -> list[str]:
    """A line for each earlier branch that forked after message ``after`` (None: at the start)."""
    return [f"> _earlier branch {b.id} ({_BRANCH_WORDS.get(b.kind, b.kind)}) forks here: see Earlier branches_\n"
            for b in conv.branches if b.after == after]


def _messages(conv: Conversation, messages: tuple[Message, ...], heading: str) -> list[str]:
    out: list[str] = []
    for m in messages:
        out += [f"{heading} {_ROLE.get(m.role, m.role.title())} (message {m.id})" if conv.branches else
                f"{heading} {_ROLE.get(m.role, m.role.title())}", ""]
        note = _STATUS_NOTE.get(m.status)
        if note:
            out += [f"> _{note}_", ""]
        if m.thinking:
            out += ["<details><summary>Thinking</summary>", "", m.thinking, "", "</details>", ""]
        out += [m.text, ""]
        out += _forks(conv, m.id)
    return out


def export(conv: Conversation, fmt: str) -> str:
    if fmt == "md":
        return to_markdown(conv)
    if fmt == "json":
        return to_json(conv)
    raise ValueError(f"unknown export format {fmt!r} (expected one of {', '.join(FORMATS)})")
