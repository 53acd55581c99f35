"""The simulator is not an open door: a key off loopback, and slow clients are cut off."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import anthropic
import pytest
from sim_helpers import HELLO, MODEL, client_for, fast_config

from claude_tui.simulator import Simulator, SimulatorConfig

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "claude_tui.cli", "simulate", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_non_loopback_host_needs_a_key() -> None:
    proc = _cli("--host", "0.0.0.0")
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0 and "--api-key" in err and "Traceback" not in err
    with pytest.raises(ValueError, match="api_keys"):
        SimulatorConfig(host="0.0.0.0")
    SimulatorConfig(host="::1")  # loopback needs none
    SimulatorConfig(host="localhost")


async def test_exposed_host_warns_and_takes_only_its_key() -> None:
    proc = _cli("--host", "0.0.0.0", "--api-key", "s3cret", "--ttft-ms", "0", "--tps", "0")
    try:
        lines: list[str] = []
        base = ""
        while not base:  # the banner, then the export hint; bounded by the process ending
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)  # type: ignore[union-attr]
            assert line, f"simulator exited: {proc.stderr.read()}"  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("export ANTHROPIC_BASE_URL="):
                base = line.split("=", 1)[1].split()[0]
        text = "".join(lines)
        assert "warning" in text.lower() and "0.0.0.0" in text
        assert "s3cret" not in text  # the key is the user's: never echoed
        port = base.rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}"
        async with anthropic.AsyncAnthropic(api_key="wrong", base_url=url, max_retries=0) as c:
            with pytest.raises(anthropic.AuthenticationError) as info:
                await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
        assert info.value.body["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}  # type: ignore[index]
        assert info.value.request_id
        async with anthropic.AsyncAnthropic(api_key="s3cret", base_url=url, max_retries=0) as c:
            assert (await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)).content
    finally:
        proc.terminate()
        proc.wait(30)


async def test_api_key_on_loopback(make_sim) -> None:
    from claude_tui.simulator.cli_args import config_from_args
    import argparse

    from claude_tui.simulator import add_simulate_arguments
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    config = config_from_args(parser.parse_args(["--api-key", "mine"]))
    assert config.api_keys == frozenset({"mine"}) and config.host == "127.0.0.1"
    sim = await make_sim(api_keys=config.api_keys)
    async with client_for(sim, api_key="other") as c:
        with pytest.raises(anthropic.AuthenticationError):
            await c.models.list()


async def _closed_by_server(port: int, trickle: bytes, every: float) -> bool:
    """Send ``trickle`` a byte at a time; True once the server closes (EOF or reset)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i in range(len(trickle)):
            try:
                writer.write(trickle[i:i + 1])
                await writer.drain()
                data = await asyncio.wait_for(reader.read(65536), every)
            except asyncio.TimeoutError:
                continue  # nothing yet: the server is still waiting for us
            except (ConnectionError, OSError):
                return True
            if data == b"" or b"408" in data.split(b"\r\n", 1)[0]:
                return True
        return False
    finally:
        writer.close()


HEAD = (b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
        b"content-type: application/json\r\n")


async def test_slow_headers_are_cut_off() -> None:
    async with Simulator(fast_config(header_timeout=0.5)) as sim:
        # 300 connections trickling a header byte every 50 ms: each would take ~10 s to finish its head
        results = await asyncio.gather(*[_closed_by_server(sim.port, HEAD + b"x-pad: " + b"a" * 200, 0.05)
                                         for _ in range(300)])
        assert all(results)
        async with client_for(sim) as c:  # the server still serves
            assert (await c.messages.create(model=MODEL, max_tokens=10, messages=HELLO)).content


async def test_slow_body_is_cut_off() -> None:
    async with Simulator(fast_config(body_timeout=0.5)) as sim:
        head = HEAD + b"content-length: 400\r\n\r\n"
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        writer.write(head)
        await writer.drain()
        assert await _closed_by_server_after(reader, writer, b"{" + b" " * 399)
        assert sim.request_log[-1].status == 408


async def _closed_by_server_after(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> bool:
    got = b""
    for i in range(len(body)):
        try:
            writer.write(body[i:i + 1])
            await writer.drain()
            got += await asyncio.wait_for(reader.read(65536), 0.05)
        except asyncio.TimeoutError:
            continue
        except (ConnectionError, OSError):
            break
        if got.startswith(b"HTTP/1.1 408"):
            return True
    return got.startswith(b"HTTP/1.1 408")
