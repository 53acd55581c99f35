"""Read a batch of prompts: plain text (one per line) or JSONL, from a file or stdin."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


class PromptFileError(ValueError):
    """A one-line, user-facing reason the prompt file cannot be used."""


@dataclass(frozen=True, slots=True)
class PromptSpec:
    id: str
    prompt: str
    system: str | None = None
    model: str | None = None
    max_tokens: int | None = None


def read_prompts(source: str, stdin: TextIO | None = None) -> list[PromptSpec]:
    """Parse FILE (or ``-`` for stdin). JSONL when every non-blank line is a JSON object."""
    if source == "-":
        text = (stdin or sys.stdin).read()
        name = "<stdin>"
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PromptFileError(f"{source}: no such file") from None
        except IsADirectoryError:
            raise PromptFileError(f"{source}: is a directory") from None
        except UnicodeDecodeError:
            raise PromptFileError(f"{source}: not UTF-8 text") from None
        except OSError as exc:
            raise PromptFileError(f"{source}: {exc.strerror}") from None
        name = source
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    specs = _parse_jsonl(lines, name) if first.lstrip().startswith("{") else _parse_text(lines)
    if not specs:
        raise PromptFileError(f"{name}: no prompts found")
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise PromptFileError(f"{name}: id {spec.id!r} appears more than once")
        seen.add(spec.id)
    return specs


def _parse_text(lines: list[str]) -> list[PromptSpec]:
    return [PromptSpec(id=f"line-{number}", prompt=line) for number, line in enumerate(lines, 1) if line.strip()]


def _parse_jsonl(lines: list[str], name: str) -> list[PromptSpec]:
    specs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromptFileError(f"{name} line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise PromptFileError(f"{name} line {number}: expected a JSON object")
        prompt = record.get("prompt")
        if not isinstance(prompt, str):
            raise PromptFileError(f"{name} line {number}: \"prompt\" must be a string")
        max_tokens = record.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
            raise PromptFileError(f"{name} line {number}: \"max_tokens\" must be a positive integer")
        for key in ("system", "model"):
            if record.get(key) is not None and not isinstance(record[key], str):
                raise PromptFileError(f"{name} line {number}: \"{key}\" must be a string")
        raw_id = record.get("id")
        specs.append(
            PromptSpec(
                id=str(raw_id) if raw_id is not None else f"line-{number}",
                prompt=prompt,
                system=record.get("system"),
                model=record.get("model"),
                max_tokens=max_tokens,
            )
        )
    return specs
