"""The JSONL results file of `claude-tui run --out`: what it means, how it is read and written.

Meaning: **one line per prompt id; when an id has several lines, the latest wins.** While a run
goes, each result is appended (and flushed) as it finishes, so a crash or Ctrl-C keeps everything
that finished; at the end of the run the file is rewritten atomically (temp file + ``os.replace``,
mode 0600) to hold exactly one line per id. Every reader here applies "latest line per id wins",
so even a file left mid-run by ``kill -9`` reads the same. A line that is not a JSON object with an
``id`` (a torn tail from a crash mid-write, a hand edit) is ignored, named by line number, and
dropped by the rewrite.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator

from ..engine.events import Cancelled, Done, Failed


class ResultsFileError(ValueError):
    """A one-line, user-facing reason the results file cannot be used."""


def check_out_path(path: Path) -> None:
    """Fail before anything starts (no SDK import, no simulator) if ``path`` cannot be written."""
    parent = path.parent
    if path.is_dir():
        raise ResultsFileError(f"--out {path} is a directory")
    if not parent.is_dir():
        raise ResultsFileError(f"--out {path}: no such directory {parent}")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise ResultsFileError(f"--out {path}: permission denied")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise ResultsFileError(f"--out {path}: cannot create a file in {parent} (permission denied)")


@dataclass
class ResultsFile:
    """What a results file holds: the latest record per id (in first-seen order), and what was unreadable."""

    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    unreadable: list[int] = field(default_factory=list)  # 1-based line numbers

    def succeeded(self) -> set[str]:
        return {key for key, record in self.latest.items() if record.get("status") == "succeeded"}


def read_results(path: Path) -> ResultsFile:
    """Read ``path`` with the file's one rule: the latest readable line per id wins."""
    found = ResultsFile()
    if not path.exists() or not _is_regular(path):
        return found
    for number, record in _lines(path):
        if record is None:
            found.unreadable.append(number)
            continue
        key = str(record["id"])
        found.latest.pop(key, None)  # re-insert: a rewritten file keeps the order results finished in
        found.latest[key] = record
    return found


def completed_ids(path: Path) -> set[str]:
    """Ids whose latest readable line says succeeded."""
    return read_results(path).succeeded()


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def open_for_append(path: Path) -> IO[str]:
    """Open ``path`` to append results (created 0600: it holds prompts and replies).

    A torn last line (no newline: a crash mid-write) is cut off first, so the next result starts
    on a line of its own instead of being glued onto the fragment and lost with it.
    """
    if _is_regular(path):
        with path.open("rb+") as raw:
            size = raw.seek(0, os.SEEK_END)
            if size:
                raw.seek(size - 1)
                if raw.read(1) != b"\n":
                    raw.seek(max(0, size - 65536))
                    tail = raw.read()
                    cut = tail.rfind(b"\n")
                    keep = size - len(tail) + cut + 1 if cut >= 0 else 0
                    if cut < 0 and size > len(tail):  # a torn line longer than 64 KiB: find its start
                        raw.seek(0)
                        keep = raw.read().rfind(b"\n") + 1
                    raw.truncate(keep)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def rewrite_latest(path: Path) -> int:
    """Rewrite ``path`` atomically with one line per id (the latest); returns the number of lines.

    Only a regular file is rewritten (``/dev/stdout`` or a FIFO is left alone). The temp file is
    in the same directory (``os.replace`` is atomic only within a file system) and mode 0600.
    """
    target = Path(os.path.realpath(path))  # a symlinked --out keeps its link
    if not _is_regular(target):
        return 0
    # Two passes, keeping only each id's last line number between them: holding every record (what
    # read_results returns) took 122 MB at the end of a 50,000-prompt run, its peak RSS.
    last: dict[str, int] = {}
    for number, record in _records(target):
        last[str(record["id"])] = number
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for number, record in _records(target):
                if last.get(str(record["id"])) == number:  # the latest line per id, in the order they came
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return len(last)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """The one parser of a results file: (line number, record) per non-blank line, one at a time;
    the record is None for a line that is not a JSON object with an ``id`` (torn, hand-edited)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                yield number, None
                continue
            yield number, record if isinstance(record, dict) and "id" in record else None


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each readable line."""
    return ((number, record) for number, record in _lines(path) if record is not None)


def result_record(spec_id: str, model: str, outcome: Done | Failed | Cancelled) -> dict[str, Any]:
    timings = outcome.timings
    ttft = timings.ttft
    latency = timings.total  # submit → finish: what the prompt waited, retries and waits included
    final = timings.latency
    record: dict[str, Any] = {
        "id": spec_id,
        "status": "succeeded",
        "text": "",
        "usage": None,
        "ttft_ms": round(ttft * 1000, 1) if ttft is not None else None,
        "latency_ms": round(latency * 1000, 1) if latency is not None else None,
        "final_attempt_latency_ms": round(final * 1000, 1) if final is not None else None,
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
