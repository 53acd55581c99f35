"""Checks a request the way the API does, with messages that name the offending field."""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any, Mapping

from . import cache, tools
from .models import ModelInfo, find_model
from .request_errors import RequestError, bad

#: The API version that dropped temperature / top_p / top_k (SDK 2.x sends it).
SAMPLING_DROPPED_IN = "2026-10-21"
_SAMPLING_FIELDS = ("temperature", "top_p", "top_k")




def api_key_from(headers: Mapping[str, str]) -> str:
    """The key from ``x-api-key`` or ``Authorization: Bearer`` (SDK 2.x sends the latter)."""
    key = headers.get("x-api-key", "").strip()
    if not key:
        auth = headers.get("authorization", "").strip()
        if auth[:7].lower() == "bearer ":
            key = auth[7:].strip()
    return key


def check_auth(headers: Mapping[str, str], api_keys: frozenset[str] | set[str]) -> None:
    key = api_key_from(headers)
    if not key:
        raise RequestError(401, "authentication_error", "x-api-key header is required")
    if api_keys and key not in api_keys:
        raise RequestError(401, "authentication_error", "invalid x-api-key")


def check_version(headers: Mapping[str, str]) -> str:
    version = headers.get("anthropic-version", "").strip()
    if not version:
        raise bad("anthropic-version: header is required")
    return version


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad(f"There was an issue with your request body: invalid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise bad("There was an issue with your request body: it must be a JSON object")
    return body


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


EMPTY_TEXT = "messages: text content blocks must be non-empty"

#: Top-level fields of a Messages request (API reference, "Create a Message", body parameters).
KNOWN_FIELDS = frozenset((
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature",
    "top_p", "top_k", "thinking", "tools", "tool_choice", "service_tier", "cache_control", "container",
    "mcp_servers", "context_management", "output_config", "output_format", "inference_geo",
))
SERVICE_TIERS = ("auto", "standard_only")
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def _check_image(block: dict[str, Any], where: str) -> None:
    source = block.get("source")
    if not isinstance(source, dict) or source.get("type") not in ("base64", "url", "file"):
        raise bad(f"{where}.image.source.type: Input should be 'base64', 'url' or 'file'")
    kind = source["type"]
    if kind == "url" and not isinstance(source.get("url"), str):
        raise bad(f"{where}.image.source.url.url: Field required")
    if kind == "file" and not isinstance(source.get("file_id"), str):
        raise bad(f"{where}.image.source.file.file_id: Field required")
    if kind != "base64":
        return
    if source.get("media_type") not in IMAGE_MEDIA_TYPES:
        raise bad(f"{where}.image.source.base64.media_type: Input should be "
                  + ", ".join(repr(m) for m in IMAGE_MEDIA_TYPES[:-1]) + f" or {IMAGE_MEDIA_TYPES[-1]!r}")
    data = source.get("data")
    try:
        if not isinstance(data, str) or not data:
            raise ValueError
        base64.b64decode(data, validate=True)
    except (ValueError, binascii.Error):
        raise bad(f"{where}.image.source.base64.data: The image data is not valid base64") from None


def _check_top_level(body: dict[str, Any]) -> None:
    for name in body:
        if name not in KNOWN_FIELDS:
            raise bad(f"{name}: Extra inputs are not permitted")
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise bad("metadata: Input should be a valid dictionary or object")
        for key in metadata:
            if key != "user_id":
                raise bad(f"metadata.{key}: Extra inputs are not permitted")
        user_id = metadata.get("user_id")
        if user_id is not None and (not isinstance(user_id, str) or len(user_id) > 256):
            raise bad("metadata.user_id: Input should be a valid string of at most 256 characters")
    tier = body.get("service_tier")
    if tier is not None and tier not in SERVICE_TIERS:
        raise bad("service_tier: Input should be 'auto' or 'standard_only'")


def _check_content(content: Any, where: str) -> None:
    if isinstance(content, str):
        if not content:
            raise bad(EMPTY_TEXT)
        return
    if not isinstance(content, list):
        raise bad(f"{where}.content: Input should be a valid string or a list of content blocks")
    if not content:
        raise bad(f"{where}.content: must contain at least one content block")
    for j, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise bad(f"{where}.content.{j}: each content block must be an object with a `type`")
        if block["type"] == "text" and not isinstance(block.get("text"), str):
            raise bad(f"{where}.content.{j}.text: Field required")
        if block["type"] == "text" and not block["text"]:
            raise bad(EMPTY_TEXT)
        if block["type"] == "image":
            _check_image(block, f"{where}.content.{j}")


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if isinstance(system, list) and all(isinstance(b, dict) and b.get("type") == "text"
                                        and isinstance(b.get("text"), str) for b in system):
        return
    raise bad("system: Input should be a valid string or a list of text blocks")


def validate_body(body: dict[str, Any], version: str, *, require_max_tokens: bool = True) -> ModelInfo:
    """Raise ``RequestError`` (400 / 404) for a body the API would refuse; return the model."""

    _check_top_level(body)
    model = body.get("model")
    if model is None:
        raise bad("model: Field required")
    if not isinstance(model, str) or not model:
        raise bad("model: Input should be a valid, non-empty string")

    if require_max_tokens or "max_tokens" in body:
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            raise bad("max_tokens: Field required")
        if not _is_int(max_tokens):
            raise bad(f"max_tokens: Input should be a valid integer, got {max_tokens!r}")
        if max_tokens < 1:
            raise bad("max_tokens: Input should be greater than or equal to 1")

    messages = body.get("messages")
    if messages is None:
        raise bad("messages: Field required")
    if not isinstance(messages, list):
        raise bad("messages: Input should be a valid list")
    if not messages:
        raise bad("messages: at least one message is required")
    for i, msg in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(msg, dict):
            raise bad(f"{where}: Input should be an object with `role` and `content`")
        role = msg.get("role")
        if role not in ("user", "assistant"):
            raise bad(f"{where}.role: Input should be 'user' or 'assistant', got {role!r}")
        if "content" not in msg:
            raise bad(f"{where}.content: Field required")
        _check_content(msg["content"], where)
    if messages[0]["role"] != "user":
        raise bad("messages: the first message must use the `user` role")

    _check_system(body.get("system"))
    tools.check_tools(body)
    tools.check_tool_results(messages)
    cache.breakpoints(body)
    if "stream" in body and not isinstance(body["stream"], bool):
        raise bad("stream: Input should be a valid boolean")
    stops = body.get("stop_sequences")
    if stops is not None and not (isinstance(stops, list) and all(isinstance(s, str) for s in stops)):
        raise bad("stop_sequences: Input should be a list of strings")

    for name in _SAMPLING_FIELDS:
        if name in body:
            if version >= SAMPLING_DROPPED_IN:
                raise bad(f"{name}: Extra inputs are not permitted (removed in anthropic-version "
                          f"{SAMPLING_DROPPED_IN}; you sent {version})")
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad(f"{name}: Input should be a valid number")

    info = find_model(model)
    if info is None:
        raise RequestError(404, "not_found_error", f"model: {model}")

    max_tokens = body.get("max_tokens")
    if max_tokens is not None and max_tokens > info.max_output_tokens:
        raise bad(f"max_tokens: {max_tokens} > {info.max_output_tokens}, which is the maximum allowed "
                  f"number of output tokens for {model}")

    thinking = body.get("thinking")
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled", "adaptive"):
            raise bad("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'")
        if thinking["type"] == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or isinstance(budget, bool):
                raise bad("thinking.enabled.budget_tokens: Field required (an integer)")
            if budget < 1024:
                raise bad("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
            if max_tokens is not None and budget >= max_tokens:
                raise bad("`max_tokens` must be greater than `thinking.budget_tokens`")
    return info


def _text_len(content: Any) -> tuple[int, int]:
    """(characters of text, extra tokens for non-text blocks) of a message's content."""
    if isinstance(content, str):
        return len(content), 0
    chars = extra = 0
    for block in content or ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            chars += len(block.get("text", ""))
        elif kind in ("image", "document"):
            extra += 1600
        elif kind in ("thinking", "redacted_thinking"):
            continue  # earlier turns' thinking is not billed as input
        else:
            chars += len(json.dumps(block, separators=(",", ":")))
    return chars, extra


def estimate_input_tokens(body: dict[str, Any]) -> int:
    """Input tokens ≈ characters / 4 plus a small per-message framing cost."""
    total = 3
    system = body.get("system")
    if isinstance(system, str):
        total += math.ceil(len(system) / 4) + 3
    elif isinstance(system, list):
        total += sum(math.ceil(len(b.get("text", "")) / 4) for b in system if isinstance(b, dict)) + 3
    for msg in body.get("messages") or ():
        if isinstance(msg, dict):
            chars, extra = _text_len(msg.get("content"))
            total += 4 + math.ceil(chars / 4) + extra
    tools = body.get("tools")
    if tools:
        total += math.ceil(len(json.dumps(tools, separators=(",", ":"))) / 4) + 300
    return total
