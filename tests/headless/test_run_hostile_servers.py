"""`claude-tui run`, as a user runs it, against the servers issue #8 was reproduced with.

Each case starts a scripted loopback server (tests/scripted_http.py) and runs the real CLI in a
subprocess against it, with the key in the environment as a user sets it. Timeouts are for hangs:
the bugs were endless waits and hot loops, so each case also asserts how many requests went out.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from aiohttp import web
from scripted_http import KEY, Handler, Scripted, error_response

HANG = 90  # seconds: only a hang gets near this


async def run_cli(tmp: Path, handler: Handler, *args: str) -> tuple[Scripted, int, str, Path]:
    """Serve ``handler``, run ``claude-tui run`` against it; (server, exit code, stderr, --out path)."""
    server = Scripted(handler)
    await server.start()
    prompts = tmp / "p.txt"
    prompts.write_text("one question\n")
    out = tmp / "o.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_TUI_", "XDG_"))}
    env.update({f"XDG_{n}_HOME": str(tmp / n.lower()) for n in ("CONFIG", "DATA", "STATE", "CACHE")},
               ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=server.base_url)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "claude_tui.cli", "run", str(prompts), "--out", str(out), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), HANG)
    finally:
        await server.stop()
    assert proc.returncode is not None
    return server, proc.returncode, stderr.decode() + stdout.decode(), out


def result_of(out: Path) -> dict:
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


async def test_retry_after_zero_on_every_request_is_bounded_and_ends(tmp_path: Path) -> None:
    async def always_429(request: web.Request) -> web.Response:
        return error_response(429, {"retry-after": "0"})

    server, code, output, out = await run_cli(tmp_path, always_429, "--rate-limit-patience", "3")
    assert code == 1 and "Traceback" not in output
    assert "server still asking to wait after" in output and "over the 3 s patience" in output  # not "asked to wait 0 s"
    assert server.requests <= 3 / 0.5 + 1  # each "come back in 0 s" waits at least 0.5 s (was 3,223 in 60 s)
    assert result_of(out)["status"] == "failed"


async def test_a_huge_retry_after_on_a_503_ends_at_once_with_a_clear_line(tmp_path: Path) -> None:
    async def years(request: web.Request) -> web.Response:
        return error_response(503, {"retry-after": "100000000"})

    server, code, output, out = await run_cli(tmp_path, years)
    assert code == 1 and "Traceback" not in output
    assert "server asked to wait 27777.8 h (retry-after); over the 600 s patience" in output
    assert server.requests == 1


async def test_an_html_page_says_what_it_is_and_is_not_retried(tmp_path: Path) -> None:
    async def portal(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Sign in to the Wi-Fi</body></html>", content_type="text/html")

    server, code, output, out = await run_cli(tmp_path, portal)
    assert code == 1 and "Traceback" not in output
    assert "ANTHROPIC_BASE_URL answered with an HTML page, not the Anthropic API" in output
    assert server.requests == 1
    assert result_of(out)["error"]["kind"] == "not_api"


async def test_a_key_echoed_by_the_server_reaches_neither_the_results_nor_the_terminal(tmp_path: Path) -> None:
    async def echo(request: web.Request) -> web.Response:
        return error_response(400, message=f"bad request; headers were: {dict(request.headers)}")

    server, code, output, out = await run_cli(tmp_path, echo)
    assert code == 1 and server.requests == 1
    assert "bad request; headers were" in output  # the error is shown ...
    assert KEY not in output and KEY not in out.read_text()  # ... without the key
    assert "[REDACTED]" in result_of(out)["error"]["message"]  # it was echoed, and redacted
    for path in tmp_path.rglob("*"):  # history, log, results: nothing on disk holds it
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


async def test_a_server_that_pings_forever_ends_at_the_attempt_limit(tmp_path: Path) -> None:
    async def pings_forever(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        try:
            while True:  # a server's pacing, not synchronisation: pings until the client hangs up
                await response.write(b'event: ping\ndata: {"type": "ping"}\n\n')
                await asyncio.sleep(0.1)
        except (ConnectionResetError, asyncio.CancelledError):
            return response

    server, code, output, out = await run_cli(
        tmp_path, pings_forever, "--stall-timeout", "0.5", "--attempt-timeout", "2", "--max-attempts", "1")
    assert code == 1 and "Traceback" not in output and server.requests == 1
    assert "no end of reply after 2 s (the attempt limit, --attempt-timeout)" in output  # not a stall: pings are bytes
    assert result_of(out)["error"]["kind"] == "timeout"
