"""Server-sent events in the exact shape of the Messages API stream.

Every event carries its ``event:`` line (the SDK drops events without one). Deltas are
formatted by concatenation rather than a full ``json.dumps`` of a dict, since they are
the hot path of a benchmark.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _json_str  # C-accelerated
from typing import Any

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + _dumps(data).encode() + b"\n\n"


PING = event("ping", {"type": "ping"})
MESSAGE_STOP = event("message_stop", {"type": "message_stop"})

_DELTA_HEAD = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_TEXT_MID = b',"delta":{"type":"text_delta","text":'
_THINK_MID = b',"delta":{"type":"thinking_delta","thinking":'
_TAIL = b"}}\n\n"


def text_delta(index: int, text: str) -> bytes:
    return _DELTA_HEAD + str(index).encode() + _TEXT_MID + _json_str(text).encode() + _TAIL


def thinking_delta(index: int, text: str) -> bytes:
    return _DELTA_HEAD + str(index).encode() + _THINK_MID + _json_str(text).encode() + _TAIL


_JSON_MID = b',"delta":{"type":"input_json_delta","partial_json":'


def input_json_delta(index: int, part: str) -> bytes:
    return _DELTA_HEAD + str(index).encode() + _JSON_MID + _json_str(part).encode() + _TAIL


def signature_delta(index: int, sig: str) -> bytes:
    return event("content_block_delta", {"type": "content_block_delta", "index": index,
                                         "delta": {"type": "signature_delta", "signature": sig}})


def message_start(message: dict[str, Any]) -> bytes:
    return event("message_start", {"type": "message_start", "message": message})


def block_start(index: int, block: dict[str, Any]) -> bytes:
    return event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})


def block_stop(index: int) -> bytes:
    return event("content_block_stop", {"type": "content_block_stop", "index": index})


def message_delta(stop_reason: str | None, usage: dict[str, Any], stop_sequence: str | None = None) -> bytes:
    return event("message_delta", {"type": "message_delta",
                                   "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                                   "usage": usage})


def error(error_type: str, message: str, request_id: str | None = None) -> bytes:
    data: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id:
        data["request_id"] = request_id
    return event("error", data)
