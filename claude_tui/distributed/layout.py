"""The Redis layout of a distributed job: key names, the job id, and the atomic scripts.

Every key of one job carries the hash tag ``{claude-tui:job:<id>}``, so a job lives in one Cluster
slot and a script may touch several of its keys. The API key never appears here: a prompt entry
holds the request (prompt, model, max_tokens, system) and a result holds the reply; the key stays
in each worker's own environment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Sequence

from ..headless.prompts import PromptSpec

GROUP = "workers"
#: The registry of jobs that still want workers (a sorted set: job id → creation time).
JOBS_KEY = "claude-tui:jobs"
#: A delivery count past this moves an entry to the dead-letter stream (`worker --max-deliveries`).
MAX_DELIVERIES = 3
#: A finished job's keys stay this long, so re-running the same command still re-attaches.
KEEP_SECONDS = 7 * 24 * 3600


def job_id_for(specs: Sequence[PromptSpec], model: str, max_tokens: int, system: str | None) -> str:
    """A stable id from what would be sent: the same file and options give the same job (re-attach)."""
    digest = hashlib.sha256()
    for spec in specs:
        digest.update(json.dumps(entry_fields(spec, model, max_tokens, system), sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def entry_fields(spec: PromptSpec, model: str, max_tokens: int, system: str | None) -> dict[str, str]:
    """One stream entry: the prompt's stable id (the same custom_id `--mode batch` uses) and its request."""
    from ..headless.batch import custom_id_for

    request = {"prompt": spec.prompt, "model": spec.model or model, "max_tokens": spec.max_tokens or max_tokens,
               "system": spec.system if spec.system is not None else system}
    return {"id": custom_id_for(spec.id), "spec_id": spec.id, "request": json.dumps(request, ensure_ascii=False)}


def entry_id(index: int) -> str:
    """Prompt ``index`` (0-based) is entry ``0-<index+1>``: Redis refuses an id at or below the last one,
    so a re-run (or a second submitter) can never add a prompt twice."""
    return f"0-{index + 1}"


def index_of(stream_id: str) -> int:
    return int(stream_id.split("-", 1)[1]) - 1


@dataclass(frozen=True)
class Keys:
    job: str

    @property
    def tag(self) -> str:
        return "{claude-tui:job:" + self.job + "}"

    @property
    def meta(self) -> str:  # hash: total, enqueued, model, source, created_at, state
        return f"{self.tag}:meta"

    @property
    def prompts(self) -> str:  # stream: one entry per prompt; consumer group GROUP
        return f"{self.tag}:prompts"

    @property
    def results(self) -> str:  # hash: custom_id → the result line (JSON), written once (HSETNX)
        return f"{self.tag}:results"

    @property
    def done(self) -> str:  # stream: one notice per result written (what the submitter tails)
        return f"{self.tag}:done"

    @property
    def dead(self) -> str:  # stream: entries delivered more than MAX_DELIVERIES times
        return f"{self.tag}:dead"

    @property
    def errors(self) -> str:  # hash: custom_id → the last failure, the dead letter's reason
        return f"{self.tag}:errors"

    @property
    def workers(self) -> str:  # hash: consumer → its progress (JSON), for the submitter's bar
        return f"{self.tag}:workers"

    def all(self) -> list[str]:
        return [self.meta, self.prompts, self.results, self.done, self.dead, self.errors, self.workers]


#: KEYS: results, done, prompts. ARGV: custom_id, result JSON, group, entry id, status.
#: Write the result unless one exists, announce it, acknowledge the entry: one atomic step, so a
#: worker killed anywhere leaves either nothing (the entry is redelivered) or all three.
#: Returns 1 when this call wrote the result, 0 when another delivery had already written one.
RECORD = """
local wrote = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if wrote == 1 then
  redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'status', ARGV[5])
end
redis.call('XACK', KEYS[3], ARGV[3], ARGV[4])
return wrote
"""

#: KEYS: results, done, prompts, dead. ARGV: custom_id, failed-result JSON, group, entry id,
#: deliveries, reason. The dead letter: a failed result (if none yet), the entry in the dead stream, acked.
DEAD_LETTER = """
local wrote = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if wrote == 1 then
  redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'status', 'failed')
  redis.call('XADD', KEYS[4], '*', 'id', ARGV[1], 'entry', ARGV[4], 'deliveries', ARGV[5], 'reason', ARGV[6])
end
redis.call('XACK', KEYS[3], ARGV[3], ARGV[4])
return wrote
"""


def loads(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
