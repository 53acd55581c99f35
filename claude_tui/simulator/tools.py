"""Tool use: checking `tools` / `tool_choice`, deciding a call, and writing its input.

Follows the tool-use pages of the API docs (platform.claude.com/docs/en/agents-and-tools/tool-use/
overview, "Define tools" and "Handle tool calls"): a custom tool is ``{name, description?,
input_schema}`` with a name matching ``^[a-zA-Z0-9_-]{1,64}$``; ``tool_choice`` is ``auto`` (the model
decides), ``any`` / ``tool`` (forced: no text before the call) or ``none``; every ``tool_result``
answers a ``tool_use`` of the message just before it. The input is generated from the tool's JSON
Schema so a client's own validation of it passes.
"""

from __future__ import annotations

import json
import random
import re
import string
from dataclasses import dataclass
from typing import Any

from .request_errors import bad

NAME_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
_NAME_RE = re.compile(NAME_PATTERN)
_CHOICES = ("auto", "any", "tool", "none")
_ID_ALPHABET = string.ascii_letters + string.digits
_WORDS = ("alpha", "delta", "paris", "london", "tokyo", "report", "summary", "blue", "queue", "north")
AUTO_CALL_RATE = 0.5  # under tool_choice auto, this share of fresh user turns calls a tool
PARALLEL_RATE = 0.4  # with several tools and parallel use allowed, this share of calling replies calls 2–3


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    input: Any
    json_tokens: list[str]  # the input's JSON cut into ~4-character "tokens"; "".join() parses back


def _custom(tool: dict[str, Any]) -> bool:
    return tool.get("type") in (None, "custom")


def check_tools(body: dict[str, Any]) -> None:
    """400 for malformed ``tools`` or ``tool_choice``, naming the field as the API does."""
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise bad("tools: Input should be a valid list")
        names: set[str] = set()
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict):
                raise bad(f"tools.{i}: Input should be a valid dictionary or object")
            if not _custom(tool):
                continue  # a server tool (web_search_…, bash_…): accepted, never called here
            where = f"tools.{i}.custom"
            name = tool.get("name")
            if name is None:
                raise bad(f"{where}.name: Field required")
            if not isinstance(name, str) or not _NAME_RE.match(name):
                raise bad(f"{where}.name: String should match pattern '{NAME_PATTERN}'")
            if name in names:
                raise bad("tools: Tool names must be unique.")
            names.add(name)
            schema = tool.get("input_schema")
            if schema is None:
                raise bad(f"{where}.input_schema: Field required")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                raise bad(f"{where}.input_schema.type: Input should be 'object'")
            if "description" in tool and not isinstance(tool["description"], str):
                raise bad(f"{where}.description: Input should be a valid string")
    choice = body.get("tool_choice")
    if choice is None:
        return
    if not isinstance(choice, dict) or choice.get("type") not in _CHOICES:
        raise bad("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    if not tools and choice["type"] != "none":
        raise bad("tool_choice: may only be specified while providing tools")
    if choice["type"] == "tool":
        name = choice.get("name")
        if not isinstance(name, str):
            raise bad("tool_choice.tool.name: Field required")
        if not any(isinstance(t, dict) and t.get("name") == name for t in tools or ()):
            raise bad(f"tool_choice.tool.name: Tool '{name}' not found in provided tools")
    thinking = body.get("thinking")
    if choice["type"] in ("any", "tool") and isinstance(thinking, dict) and thinking.get("type") != "disabled":
        raise bad("Thinking may not be enabled when tool_choice forces tool use.")
    extra = choice.get("disable_parallel_tool_use")
    if extra is not None and not isinstance(extra, bool):
        raise bad(f"tool_choice.{choice['type']}.disable_parallel_tool_use: Input should be a valid boolean")


def check_tool_results(messages: list[dict[str, Any]]) -> None:
    """``tool_use`` and ``tool_result`` must pair across neighbouring messages (else 400, as the API says).

    Every ``tool_result`` answers a ``tool_use`` id of the message just before it, every ``tool_use``
    of an assistant message that is followed by another message gets its result there (all of them,
    when the reply called several tools in parallel), and the results come before any other block
    of that message (tool-use docs: "tool_result blocks must come FIRST in the content array").
    """
    previous_ids: set[str] = set()
    for i, msg in enumerate(messages):
        content = msg.get("content")
        blocks = content if isinstance(content, list) else []
        ids = set()
        results = set()
        for j, block in enumerate(blocks):
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_use":
                if msg.get("role") != "assistant":
                    raise bad(f"messages.{i}.content.{j}: `tool_use` blocks can only be in `assistant` messages")
                for name in ("id", "name"):
                    if not isinstance(block.get(name), str):
                        raise bad(f"messages.{i}.content.{j}.tool_use.{name}: Field required")
                if not isinstance(block.get("input"), dict):
                    raise bad(f"messages.{i}.content.{j}.tool_use.input: Input should be a valid dictionary")
                ids.add(block["id"])
            elif kind == "tool_result":
                tool_use_id = block.get("tool_use_id")
                if not isinstance(tool_use_id, str):
                    raise bad(f"messages.{i}.content.{j}.tool_result.tool_use_id: Field required")
                if msg.get("role") != "user" or tool_use_id not in previous_ids:
                    raise bad(f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                              f"blocks: {tool_use_id}. Each `tool_result` block must have a corresponding "
                              f"`tool_use` block in the previous message.")
                if any(isinstance(b, dict) and b.get("type") != "tool_result" for b in blocks[:j]):
                    raise bad(f"messages.{i}.content.{j}: `tool_result` blocks must come first in the content, "
                              f"before any other block")
                results.add(tool_use_id)
        missing = previous_ids - results
        if missing:
            raise bad(f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks immediately "
                      f"after: {', '.join(sorted(missing))}. Each `tool_use` block must have a corresponding "
                      f"`tool_result` block in the next message.")
        previous_ids = ids


def _answers_tool(body: dict[str, Any]) -> bool:
    """True when the last user turn carries tool results (the model then answers in text)."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last, dict) else None
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result"
                                             for b in content)


def choose(rng: random.Random, body: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """(the tools to call, in order — empty for none; whether the call is forced). Deterministic for
    the request's RNG.

    Parallel use (tool-use docs, "Parallel tool use"): with several tools and
    ``disable_parallel_tool_use`` not true, a calling reply sometimes calls 2–3 different tools at
    once; with it true, at most one (``auto``) or exactly one (``any`` / ``tool``).
    """
    tools = [t for t in body.get("tools") or () if isinstance(t, dict) and _custom(t)]
    tool_choice = body.get("tool_choice") or {}
    choice = tool_choice.get("type", "auto")
    if not tools or choice == "none":
        return [], False
    if choice == "tool":
        first = next(t for t in tools if t["name"] == tool_choice["name"])
        forced = True
    elif choice == "any":
        first, forced = rng.choice(tools), True
    elif _answers_tool(body) or rng.random() >= AUTO_CALL_RATE:
        return [], False
    else:
        first, forced = rng.choice(tools), False
    calls = [first]
    if len(tools) > 1 and not tool_choice.get("disable_parallel_tool_use") and rng.random() < PARALLEL_RATE:
        others = [t for t in tools if t is not first]
        calls.extend(rng.sample(others, min(len(others), rng.randint(1, 2))))
    return calls, forced


def value_for(rng: random.Random, schema: Any, depth: int = 0) -> Any:
    """A value valid against a (simple) JSON Schema: enum/const, object, array, string, integer, number, boolean."""
    if not isinstance(schema, dict):
        return "value"
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return value_for(rng, schema[key][0], depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties") or {}
        required = [k for k in schema.get("required") or () if k in props]
        out: dict[str, Any] = {}
        for key, sub in props.items():
            if key in required or (depth < 2 and rng.random() < 0.5):
                out[key] = value_for(rng, sub, depth + 1)
        return out
    if kind == "array":
        lo = int(schema.get("minItems", 1))
        hi = max(lo, min(int(schema.get("maxItems", lo + 2)), lo + 2))
        return [value_for(rng, schema.get("items") or {}, depth + 1) for _ in range(rng.randint(lo, hi))]
    if kind in ("integer", "number"):
        lo = schema.get("minimum", 0)
        hi = schema.get("maximum", max(lo, 0) + 100)
        n = rng.randint(int(-(-lo // 1)), int(hi // 1)) if hi >= lo else lo
        return n if kind == "integer" else n + (0.5 if n + 0.5 <= hi else 0.0)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3)))
    min_len, max_len = int(schema.get("minLength", 0)), schema.get("maxLength")
    text = text.ljust(min_len, "x")
    return text[:max_len] if isinstance(max_len, int) else text


def tool_id(rng: random.Random) -> str:
    return "toolu_01" + "".join(rng.choice(_ID_ALPHABET) for _ in range(22))


def make_call(rng: random.Random, tool: dict[str, Any]) -> ToolCall:
    value = value_for(rng, tool.get("input_schema"))
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return ToolCall(tool_id(rng), tool["name"], value, [text[i:i + 4] for i in range(0, len(text), 4)])
