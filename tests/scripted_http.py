"""A scripted loopback HTTP server for the hostile or broken servers the simulator will not play.

The simulator is faithful on purpose, so it cannot send an `inf` retry-after, an HTML page or pings
forever. This is a real aiohttp server: the real SDK (and the real CLI, in a subprocess) talks to it
over real HTTP. Shared by tests/engine and tests/headless (tests/ is on sys.path: pytest's rootdir
import mode puts the directory of tests/conftest.py there).
"""

from __future__ import annotations

import json
import socket
from typing import Any, Awaitable, Callable

from aiohttp import web

KEY = "sk-ant-api03-SECRETSECRETSECRET-abcdef"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Scripted:
    """A loopback server whose /v1/messages answers with ``handler``; counts the requests."""

    def __init__(self, handler: Handler, port: int | None = None) -> None:
        self.handler = handler
        self.port = port or _free_port()
        self.requests = 0
        self._runner: web.AppRunner | None = None

    async def _route(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        return await self.handler(request)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._route)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def error_response(status: int, headers: dict[str, str] | None = None, message: str = "try later") -> web.Response:
    kind = {429: "rate_limit_error", 503: "api_error", 529: "overloaded_error", 400: "invalid_request_error"}[status]
    return web.json_response({"type": "error", "error": {"type": kind, "message": message}}, status=status, headers=headers)


def sse(*events: dict[str, Any], raw: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    out = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)
    return out + b"".join(raw)


START = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
                                              "content": [], "stop_reason": None, "stop_sequence": None,
                                              "usage": {"input_tokens": 5, "output_tokens": 1}}}
BLOCK = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
DELTA = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello there"}}
BLOCK_STOP = {"type": "content_block_stop", "index": 0}
MESSAGE_DELTA = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 3}}
STOP = {"type": "message_stop"}


def stream(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="text/event-stream")
