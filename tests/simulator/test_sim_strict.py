"""Strict request checks: what the API refuses with 400 invalid_request_error, naming the field."""

from __future__ import annotations

import base64
from typing import Any

import anthropic
import pytest
from sim_helpers import HELLO, MODEL

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()


def _image(**source: Any) -> list[dict[str, Any]]:
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG, **source}}
    return [{"role": "user", "content": [block, {"type": "text", "text": "What is this?"}]}]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"extra_body": {"frobnicate": True}}, "frobnicate"),
    ({"metadata": {"user_id": "u1", "team": "x"}}, "metadata.team"),
    ({"metadata": {"user_id": 5}}, "metadata.user_id"),
    ({"extra_body": {"service_tier": "priority"}}, "service_tier"),
    ({"messages": _image(data="not base64!!")}, "data"),
    ({"messages": _image(media_type="image/bmp")}, "media_type"),
])
async def test_refused_with_the_field_named(client: anthropic.AsyncAnthropic, kwargs: dict[str, Any],
                                            field: str) -> None:
    params: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": HELLO, **kwargs}
    with pytest.raises(anthropic.BadRequestError) as exc:
        await client.messages.create(**params)
    assert exc.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert field in exc.value.body["error"]["message"]  # type: ignore[index]


async def test_documented_values_are_accepted(client: anthropic.AsyncAnthropic) -> None:
    for tier in ("auto", "standard_only"):
        msg = await client.messages.create(model=MODEL, max_tokens=64, messages=_image(),
                                           metadata={"user_id": "user-123"}, service_tier=tier)
        assert msg.usage.service_tier == "standard"


async def test_service_tier_in_message_start_usage(client: anthropic.AsyncAnthropic) -> None:
    stream = await client.messages.create(model=MODEL, max_tokens=64, messages=HELLO, stream=True)
    first = None
    async for event in stream:
        first = first or event
    assert first is not None and first.type == "message_start"
    assert first.message.usage.service_tier == "standard"
