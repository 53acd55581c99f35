"""The JSONL results file: one line per prompt as it finishes, and what a re-run may skip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from ..engine.events import Cancelled, Done, Failed


def completed_ids(path: Path) -> set[str]:
    """Ids whose latest line says succeeded; a torn last line (a crash mid-write) is ignored."""
    done: set[str] = set()
    if not path.exists():
        return done
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict) or "id" not in record:
                continue
            if record.get("status") == "succeeded":
                done.add(str(record["id"]))
            else:
                done.discard(str(record["id"]))
    return done


def result_record(spec_id: str, model: str, outcome: Done | Failed | Cancelled) -> dict[str, Any]:
    timings = outcome.timings
    ttft = timings.ttft
    latency = timings.latency
    record: dict[str, Any] = {
        "id": spec_id,
        "status": "succeeded",
        "text": "",
        "usage": None,
        "ttft_ms": round(ttft * 1000, 1) if ttft is not None else None,
        "latency_ms": round(latency * 1000, 1) if latency is not None else None,
        "attempts": outcome.attempts,
        "error": None,
        "model": model,
        "request_id": None,
    }
    if isinstance(outcome, Done):
        record.update(text=outcome.text, usage=outcome.usage.as_dict(), model=outcome.model, request_id=outcome.request_id)
        record["stop_reason"] = outcome.stop_reason
        record["cost_usd"] = round(outcome.cost, 6) if outcome.cost is not None else None
    elif isinstance(outcome, Failed):
        record.update(
            status="failed",
            text=outcome.partial_text,
            usage=outcome.usage.as_dict(),
            error={"kind": outcome.kind, "message": outcome.message},
            request_id=outcome.request_id,
        )
    else:
        record.update(status="cancelled", text=outcome.partial_text, error={"kind": "cancelled", "message": "cancelled"})
    return record


class ResultWriter:
    """Appends one flushed line per finished prompt, so an interrupted run keeps what finished."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, record: dict[str, Any]) -> None:
        self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._stream.flush()
