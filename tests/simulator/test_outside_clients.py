"""`claude-tui simulate` driven by clients nobody here wrote: `llm` + llm-anthropic, and litellm.

Optional: each test skips unless its client is installed.

- litellm: ``pip install 'claude-tui[outside]'`` (litellm has its own SSE parser and maps the stream to
  OpenAI-style chunks).
- llm + llm-anthropic: llm-anthropic 0.30 requires ``anthropic<2``, which cannot share a venv with
  claude-tui (``anthropic>=2.10``). Install it into its own venv and point the tests at its ``llm``:
  ``python -m venv ~/llm-venv && ~/llm-venv/bin/pip install llm llm-anthropic`` then
  ``CLAUDE_TUI_LLM_BIN=~/llm-venv/bin/llm pytest tests/simulator/test_outside_clients.py``
  (an ``llm`` on PATH with llm-anthropic is used too).

The server is the real command, ``python -m claude_tui.cli simulate --port 0``, in its own process.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import anthropic
import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "sim-key"
# read at import: the suite's autouse fixture clears CLAUDE_TUI_* variables before each test
LLM_BIN = os.environ.get("CLAUDE_TUI_LLM_BIN") or shutil.which("llm")
WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "minLength": 2}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "days"],
}
BIG = "Reference material about token buckets and retry policies. " * 600  # ~9,000 tokens


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """``claude-tui simulate`` on a free port, fast and unlimited; yields its base URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_tui.cli", "simulate", "--port", "0", "--ttft-ms", "5", "--tps", "0",
         "--rpm", "0", "--itpm", "0", "--otpm", "0", "--reply-tokens", "120", "--seed", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "claude-tui simulator listening on http://127.0.0.1:PORT (...)"
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"simulate did not start: {line!r}"
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- llm + llm-anthropic ---------------------------------------------------------------------------

def _llm_with_anthropic() -> str:
    if LLM_BIN is None:
        pytest.skip("llm is not installed: python -m venv ~/llm-venv && ~/llm-venv/bin/pip install llm "
                    "llm-anthropic, then CLAUDE_TUI_LLM_BIN=~/llm-venv/bin/llm (llm-anthropic needs anthropic<2)")
    plugins = subprocess.run([LLM_BIN, "plugins"], capture_output=True, text=True, timeout=120).stdout
    if "llm-anthropic" not in plugins:
        pytest.skip(f"{LLM_BIN} has no llm-anthropic plugin: {LLM_BIN} install llm-anthropic")
    return LLM_BIN


async def _llm(binary: str, base_url: str, home: Path, *args: str) -> tuple[int, str, str]:
    """Run the llm CLI against ``base_url`` (the anthropic SDK reads ANTHROPIC_BASE_URL; llm the key)."""
    env = {**os.environ, "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": KEY, "LLM_USER_PATH": str(home)}
    proc = await asyncio.create_subprocess_exec(binary, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)  # a hang guard only
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_llm_streams_a_prompt_with_the_current_model_limits(served: str, tmp_path: Path) -> None:
    llm = _llm_with_anthropic()
    # llm-anthropic asks for the model's whole output limit (128,000 for Sonnet 4.6): the table must allow it
    code, out, err = await _llm(llm, served, tmp_path, "-m", "claude-sonnet-4.6", "-u", "Say hello")
    assert code == 0, err
    usage = re.search(r"Token usage: ([\d,]+) input, ([\d,]+) output", err + out)
    assert usage, err
    assert int(usage.group(2).replace(",", "")) > 0
    assert len(out.strip()) > 20
    code, out, err = await _llm(llm, served, tmp_path, "-m", "claude-haiku-4.5", "Say hello again")
    assert code == 0 and out.strip(), err


async def test_llm_lists_the_models(served: str, tmp_path: Path) -> None:
    llm = _llm_with_anthropic()
    code, out, err = await _llm(llm, served, tmp_path, "anthropic", "models")
    assert code == 0, err
    assert "claude-sonnet-4-6: Claude Sonnet 4.6" in out


async def test_llm_runs_a_tool_and_the_follow_up_is_accepted(served: str, tmp_path: Path) -> None:
    llm = _llm_with_anthropic()
    function = "def add(a: int, b: int) -> int:\n    return a + b\n"
    called = 0
    for question in ("add 2 and 3", "please add 10 and 20", "sum of 4 and 5", "what is 7+8", "add 1 and 1"):
        code, out, err = await _llm(llm, served, tmp_path, "-m", "claude-sonnet-4.6", "--functions", function,
                                    "--td", question)
        assert code == 0, err  # the tool_result round trip is a valid request
        called += (out + err).count("Tool call: add(")
    assert called >= 1  # the seeded "model" decides to call on some of these questions


# -- litellm ----------------------------------------------------------------------------------------

@pytest.fixture
def litellm(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of the price list from the internet
    return pytest.importorskip("litellm", reason="litellm is not installed: pip install 'claude-tui[outside]'")


async def test_litellm_streams_the_same_reply_the_sdk_gets(served: str, litellm: Any) -> None:
    messages = [{"role": "user", "content": "How do token buckets refill?"}]
    stream = await litellm.acompletion(model="anthropic/claude-sonnet-4-6", api_base=served, api_key=KEY,
                                       messages=messages, max_tokens=400, stream=True,
                                       stream_options={"include_usage": True})
    parts: list[str] = []
    finish = usage = None
    async for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        usage = getattr(chunk, "usage", None) or usage
    async with anthropic.AsyncAnthropic(api_key=KEY, base_url=served, max_retries=0) as client:
        async with client.messages.stream(model="claude-sonnet-4-6", max_tokens=400, messages=messages) as sdk:
            message = await sdk.get_final_message()
    # the reply depends on the request only: litellm's parser rebuilt exactly what the SDK's did
    assert "".join(parts) == message.content[0].text
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens == message.usage.output_tokens
    assert usage.prompt_tokens == message.usage.input_tokens


async def test_litellm_streams_a_tool_call_with_valid_arguments(served: str, litellm: Any) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                               "parameters": WEATHER}}]
    stream = await litellm.acompletion(model="anthropic/claude-sonnet-4-6", api_base=served, api_key=KEY,
                                       messages=[{"role": "user", "content": "Weather in Paris?"}],
                                       max_tokens=300, stream=True, tools=tools, tool_choice="required")
    calls: dict[int, dict[str, str]] = {}
    finish = None
    async for chunk in stream:
        if not chunk.choices:
            continue
        finish = chunk.choices[0].finish_reason or finish
        for call in chunk.choices[0].delta.tool_calls or ():
            entry = calls.setdefault(call.index, {"name": "", "arguments": ""})
            entry["name"] += call.function.name or ""
            entry["arguments"] += call.function.arguments or ""
    assert finish == "tool_calls"
    assert [c["name"] for c in calls.values()] == ["get_weather"]
    jsonschema.validate(json.loads(calls[0]["arguments"]), WEATHER)


async def test_litellm_sees_a_1h_cache_write_then_a_read(served: str, litellm: Any) -> None:
    messages = [{"role": "system", "content": [{"type": "text", "text": BIG,
                                                "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
                {"role": "user", "content": "Summarise it."}]
    first = await litellm.acompletion(model="anthropic/claude-sonnet-4-6", api_base=served, api_key=KEY,
                                      messages=messages, max_tokens=100)
    again = await litellm.acompletion(model="anthropic/claude-sonnet-4-6", api_base=served, api_key=KEY,
                                      messages=messages, max_tokens=100)
    assert first.usage.cache_creation_input_tokens > 5000
    assert again.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert again.usage.cache_creation_input_tokens == 0


async def test_litellm_rebuilds_parallel_tool_calls(served: str, litellm: Any) -> None:
    schemas = {"get_weather": WEATHER, "get_time": {"type": "object", "properties": {"zone": {"type": "string"}}},
               "search": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}
    tools = [{"type": "function", "function": {"name": name, "parameters": schema}} for name, schema in schemas.items()]
    for i in range(20):
        stream = await litellm.acompletion(model="anthropic/claude-sonnet-4-6", api_base=served, api_key=KEY,
                                           messages=[{"role": "user", "content": f"Plan day {i} in Paris"}],
                                           max_tokens=500, stream=True, tools=tools, tool_choice="required")
        calls: dict[int, dict[str, str]] = {}
        async for chunk in stream:
            for call in (chunk.choices[0].delta.tool_calls or ()) if chunk.choices else ():
                entry = calls.setdefault(call.index, {"name": "", "arguments": ""})
                entry["name"] += call.function.name or ""
                entry["arguments"] += call.function.arguments or ""
        if len(calls) >= 2:
            for entry in calls.values():  # each call's streamed JSON is whole and valid on its own
                jsonschema.validate(json.loads(entry["arguments"]), schemas[entry["name"]])
            return
    raise AssertionError("no parallel tool call in 20 prompts")
