"""The rate-limit benchmarks: ``rate-limit`` (one process under a limit) and ``shared-limit`` (four on one key).

``rate-limit``: 200 prompts under 60 RPM + 3,000 OTPM, and 200 under 120 RPM alone. Rows: the
guide's approach, claude-tui reactive (``--limiter off``: today's engine, honouring ``retry-after``)
and claude-tui paced (the budget with its defaults, and with ``slow_start`` on as a fourth row to show
what a pre-emptive ramp costs).
Every row has a simulator process of its own and all rows run at the same time.

``shared-limit``: 4 processes × concurrency 10 on one simulator (one API key's 120 RPM + OTPM),
sharing one budget through a real ``redis-server``, against the same 4 processes each pacing alone.

Per row: goodput as % of the binding limit, 429s per 100 attempts (counted by the simulator, so the
SDK's invisible retries count), attempts per request, p50/p99 latency submit→finish (queueing,
budget waits and retries included), p99 sent→finish, time spent waiting on the budget, lost.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
from typing import Any, Callable

from . import report
from .guide import Guide, _error_label
from .measure import RunResult, percentile, row, server_counts
from .redis_proc import RedisProcess
from .simproc import SimProcess

MODEL = "claude-sonnet-4-6"
API_KEY = "sim-key-not-secret"  # the simulator accepts any key; never a real one

#: A realistic reply (TTFT 0.5 s, 70 tokens/s, ≈ 45 tokens, ±30 %) behind buckets of 10 s of refill.
_REPLY: dict[str, Any] = dict(itpm=0, burst=10.0, ttft_ms=500.0, tps=70.0, reply_tokens=45, jitter=0.3)

#: (key, title, simulator config, max_tokens, concurrency).
RATE_CASES: tuple[tuple[str, str, dict[str, Any], int, int], ...] = (
    ("rpm+otpm", "60 RPM + 3,000 OTPM", dict(_REPLY, rpm=60, otpm=3000, seed=13), 256, 5),
    ("rpm", "120 RPM alone", dict(_REPLY, rpm=120, otpm=0, seed=15), 1024, 5),
)
SHARED_SIM: dict[str, Any] = dict(_REPLY, rpm=120, otpm=9000, seed=17)
SHARED_MAX_TOKENS = 256
SHARED_PROCESSES, SHARED_CONCURRENCY = 4, 10


def _quick(config: dict[str, Any]) -> dict[str, Any]:
    """Ten times the limits and a faster server: the same shapes in seconds (CI)."""
    return dict(config, rpm=config["rpm"] * 10, otpm=config["otpm"] * 10, ttft_ms=100.0, tps=400.0)


def _prompts(n: int, tag: str) -> list[str]:
    return [f"{tag} question {i + 1}: explain token buckets in two sentences." for i in range(n)]


def binding_limit(config: dict[str, Any], mean_output: float | None) -> tuple[str, float]:
    """The limit that binds on actual usage, in requests per minute: RPM, or OTPM ÷ the replies' length."""
    candidates = []
    if config.get("rpm"):
        candidates.append(("RPM", float(config["rpm"])))
    if config.get("otpm") and mean_output:
        candidates.append(("OTPM", config["otpm"] / mean_output))
    return min(candidates, key=lambda c: c[1]) if candidates else ("none", float("inf"))


def submit_percentile(finished: list[float], lost: int, p: float) -> float | None:
    """The ``p``-th percentile of submit→finish over every prompt submitted; None = it falls on a lost one.

    A lost prompt never finishes: it counts as slower than any that did. Why: leaving it out let a
    run that lost 5 of 200 prompts report the p99 of its 195 replies, which come ~4 s sooner under
    a 60 RPM limit than the 198th of 200 can (measured 185.2 s against the paced row's 189.4 s,
    whose 200th request went at 190.0 s, the limit's own bound of 10 s of burst + 190 at 1 a
    second); the user still has those 5 prompts to send.
    """
    values = sorted(finished) + [math.inf] * lost
    value = percentile(values, p)
    return None if value is None or not math.isfinite(value) else value


def _figures(run: RunResult, config: dict[str, Any], *, submit_latencies: list[float], budget_wait: float | None,
             case: str, mode: str | None = None) -> dict[str, Any]:
    mean_output = run.output_tokens / run.completed if run.completed else None
    name, limit = binding_limit(config, mean_output)
    per_min = run.completed / (run.duration_s / 60) if run.duration_s > 0 else 0.0
    attempts = run.attempts or 0
    lost = run.requests - run.completed
    p50, p99 = submit_percentile(submit_latencies, lost, 50), submit_percentile(submit_latencies, lost, 99)
    p99_done = percentile(submit_latencies, 99)
    return row(
        run, use_littles_law=False, rate_limit_ceiling=limit / 60 if limit != float("inf") else None,
        case=case, lost=run.failed, binding=name,
        binding_per_min=round(limit, 1), goodput_per_min=round(per_min, 2), goodput_fraction=round(per_min / limit, 4),
        rate_limited_per_100=round(100 * (run.rate_limited or 0) / attempts, 2) if attempts else None,
        submit_p50_ms=None if p50 is None else round(p50 * 1000, 1),
        submit_p99_ms=None if p99 is None else round(p99 * 1000, 1),
        submit_p99_completed_ms=None if p99_done is None else round(p99_done * 1000, 1),
        budget_wait_s=None if budget_wait is None else round(budget_wait, 1), limiter=mode,
    )


# -- the rows ---------------------------------------------------------------------------------------
async def guide_row(sim: SimProcess, config: dict[str, Any], prompts: list[str], conc: int, max_tokens: int,
                    case: str) -> dict[str, Any]:
    """The guide's approach (gather + Semaphore + create, SDK retries on, its own retry wrapper), timed per prompt."""
    from anthropic import AsyncAnthropic

    client = AsyncAnthropic(api_key=API_KEY, base_url=sim.base_url)
    guide = Guide(client, model=MODEL, max_tokens=max_tokens)
    from .guide import GuideOutcome

    out = GuideOutcome(results=[])
    semaphore = asyncio.Semaphore(conc)
    finished: list[float] = []
    out.started = time.monotonic()

    async def one(prompt: str) -> str | None:
        async with semaphore:
            try:
                text = await guide._create(prompt, out)
            except Exception as exc:  # noqa: BLE001 - the guide prints and loses the prompt
                out.errors[_error_label(exc)] += 1
                return None
        finished.append(time.monotonic() - out.started)
        return text

    out.results = list(await asyncio.gather(*(one(p) for p in prompts)))
    out.finished = time.monotonic()
    await client.close()
    run = RunResult(f"guide: gather + Semaphore({conc}) + create, SDK retries, own wrapper", "guide", conc,
                    len(prompts), out.completed, out.finished - out.started, latencies=out.latencies,
                    output_tokens=out.output_tokens, errors=dict(out.errors))
    run.attempts, run.rate_limited, run.failed_attempts = server_counts(sim.log())
    return _figures(run, config, submit_latencies=finished, budget_wait=None, case=case)


async def run_jobs(base_url: str, prompts: list[str], conc: int, max_tokens: int, budget: Any) -> dict[str, Any]:
    """Prompts through a RequestPool (with ``budget`` or none); per-prompt submit→finish and sent→finish."""
    from ..engine.events import Done, Failed, JobEvent, Started
    from ..engine.job import Job
    from ..engine.pool import RequestPool

    pool = RequestPool(api_key=API_KEY, base_url=base_url, limit=conc, budget=budget)
    first_sent: dict[str, float] = {}
    submit: list[float] = []
    sent: list[float] = []
    output = 0
    errors: dict[str, int] = {}

    def on_event(event: JobEvent) -> None:
        nonlocal output
        if isinstance(event, Started):
            first_sent.setdefault(event.job_id, event.at)
        elif isinstance(event, Done):
            submit.append(event.at - event.timings.submitted)
            sent.append(event.at - first_sent.get(event.job_id, event.timings.submitted))
            output += event.usage.output_tokens
        elif isinstance(event, Failed):
            errors[f"lost: {event.kind}"] = errors.get(f"lost: {event.kind}", 0) + 1

    pool.add_listener(on_event)
    started = time.monotonic()
    handles = [pool.submit(Job.from_prompt(p, model=MODEL, max_tokens=max_tokens), stream_events=False) for p in prompts]
    outcomes = await asyncio.gather(*(h.result() for h in handles))
    finished = time.monotonic()
    await pool.aclose()
    snap = budget.snapshot() if budget is not None else None
    if budget is not None:
        await budget.aclose()
    return {
        "done": sum(isinstance(o, Done) for o in outcomes), "requests": len(prompts), "submit": submit, "sent": sent,
        "output_tokens": output, "errors": errors, "duration": finished - started,
        "budget_wait": snap.throttled_seconds if snap else None, "mode": snap.mode_text if snap else "limiter: off",
        "peers": snap.peers if snap else None,
    }


async def pool_row(sim: SimProcess, config: dict[str, Any], prompts: list[str], conc: int, max_tokens: int,
                   case: str, *, paced: bool, slow_start: bool = False) -> dict[str, Any]:
    from ..engine.budget import Budget

    budget = Budget(slow_start=slow_start, user_limit=conc) if paced else None
    got = await run_jobs(sim.base_url, prompts, conc, max_tokens, budget)
    label = ("claude-tui paced" + (" (slow start on)" if slow_start else ", the defaults")
             if paced else "claude-tui reactive (--limiter off)")
    run = RunResult(label, "claude-tui", conc, got["requests"], got["done"], got["duration"], latencies=got["sent"],
                    output_tokens=got["output_tokens"], errors=got["errors"])
    run.attempts, run.rate_limited, run.failed_attempts = server_counts(sim.log())
    return _figures(run, config, submit_latencies=got["submit"], budget_wait=got["budget_wait"], case=case,
                    mode=got["mode"] if paced else "off")


# -- scenario: rate-limit ---------------------------------------------------------------------------
async def scenario_rate_limit(settings: Any) -> Any:
    from .scenarios import ScenarioResult

    n = settings.requests or (40 if settings.quick else 200)
    rows: list[dict[str, Any]] = []
    jobs: list[Callable[[SimProcess], Any]] = []
    configs: list[dict[str, Any]] = []
    for key, title, base, max_tokens, conc in RATE_CASES:
        config = _quick(base) if settings.quick else dict(base)
        prompts = _prompts(n, f"rl {key}")
        case = f"{n} prompts, {title}" if not settings.quick else f"{n} prompts, {title} ×10 (quick)"
        for make in (
            lambda sim, c=config, p=prompts, k=conc, m=max_tokens, t=case: guide_row(sim, c, p, k, m, t),
            lambda sim, c=config, p=prompts, k=conc, m=max_tokens, t=case: pool_row(sim, c, p, k, m, t, paced=False),
            lambda sim, c=config, p=prompts, k=conc, m=max_tokens, t=case: pool_row(sim, c, p, k, m, t, paced=True),
            lambda sim, c=config, p=prompts, k=conc, m=max_tokens, t=case: pool_row(sim, c, p, k, m, t, paced=True,
                                                                                    slow_start=True),
        ):
            jobs.append(make)
            configs.append(config)
    sims = [SimProcess(**config) for config in configs]
    try:
        for sim in sims:
            sim.start()
        rows = list(await asyncio.gather(*(job(sim) for job, sim in zip(jobs, sims))))
    finally:
        for sim in sims:
            sim.stop()
    notes = [
        "Each row has its own simulator process; all rows run at the same time (the machine is shared: see the load).",
        "Simulator: TTFT 0.5 s, 70 tokens/s, replies ≈ 45 tokens (±30 %); buckets hold 10 s of refill; like the "
        "API it reserves max_tokens on admission and settles at the end. max_tokens 256 under RPM + OTPM, 1024 "
        "under RPM alone; concurrency 5.",
        "Binding limit = RPM, or OTPM ÷ the replies' mean length, whichever allows fewer requests per minute; "
        "goodput = completed per minute (first submit → last outcome) ÷ that. An initial burst (10 s of bucket) "
        "lets a short run exceed 100 %.",
        "submit→finish: from submit (all prompts at once) to the reply complete: queueing, budget waits, retries "
        "included; a lost prompt never finishes, so it counts as slower than any reply (∞ when a percentile falls on "
        "one); 'p99 of completed' leaves lost prompts out. sent→finish (the load-test latency): from the first "
        "attempt sent.",
    ]
    return ScenarioResult("rate-limit", "Under a rate limit: the guide's approach vs claude-tui reactive vs paced",
                          rows, {k: c for (k, *_), c in zip(RATE_CASES, configs[::4])}, notes)


# -- scenario: shared-limit -------------------------------------------------------------------------
async def _workers(base_url: str, redis_url: str | None, per_process: int, tag: str) -> tuple[list[dict[str, Any]], float]:
    """Start SHARED_PROCESSES workers, let them go together, collect their figures; returns (figures, wall s)."""
    env = dict(os.environ)
    env.pop("ANTHROPIC_API_KEY", None)
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    procs = []
    for index in range(SHARED_PROCESSES):
        args = json.dumps({"base_url": base_url, "redis_url": redis_url, "n": per_process, "conc": SHARED_CONCURRENCY,
                           "tag": f"{tag} p{index}", "max_tokens": SHARED_MAX_TOKENS})
        procs.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "claude_tui.bench.limit_scenarios", "worker", args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env))
    for proc in procs:
        assert proc.stdout is not None
        ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), 120))
        assert ready.get("ready"), ready
    started = time.monotonic()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    figures = []
    for proc in procs:
        assert proc.stdout is not None
        figures.append(json.loads(await asyncio.wait_for(proc.stdout.readline(), 1800)))
    wall = time.monotonic() - started  # the last reply is in: process exits are not the run's time
    for proc in procs:
        await asyncio.wait_for(proc.wait(), 60)
    return figures, wall


async def _worker_main(args: dict[str, Any]) -> None:
    """One process of the shared-limit scenario (``python -m claude_tui.bench.limit_scenarios worker JSON``)."""
    import anthropic  # noqa: F401 - imported before "ready", so a slow import is not measured

    from ..engine.budget import Budget

    store = None
    if args["redis_url"]:
        from ..engine.budget_redis import open_redis_store

        store = await open_redis_store(args["redis_url"], API_KEY)
    budget = Budget(store, user_limit=args["conc"])  # the defaults (slow start off)
    print(json.dumps({"ready": True}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    got = await run_jobs(args["base_url"], _prompts(args["n"], args["tag"]), args["conc"], args["max_tokens"], budget)
    print(json.dumps(got), flush=True)


async def scenario_shared_limit(settings: Any) -> Any:
    from .scenarios import ScenarioResult

    config = _quick(SHARED_SIM) if settings.quick else dict(SHARED_SIM)
    per_process = (settings.requests or (40 if settings.quick else 200)) // SHARED_PROCESSES
    rows = []
    redis = RedisProcess().start()
    try:
        with SimProcess(**config) as shared_sim, SimProcess(**config) as alone_sim:
            (shared, wall_s), (alone, wall_a) = await asyncio.gather(
                _workers(shared_sim.base_url, redis.url, per_process, "shared"),
                _workers(alone_sim.base_url, None, per_process, "alone"),
            )
            for label, figures, wall, sim in (
                (f"{SHARED_PROCESSES} processes × {SHARED_CONCURRENCY}, one budget through Redis", shared, wall_s, shared_sim),
                (f"{SHARED_PROCESSES} processes × {SHARED_CONCURRENCY}, each pacing alone", alone, wall_a, alone_sim),
            ):
                total = SHARED_PROCESSES * per_process
                run = RunResult(label, "claude-tui", SHARED_PROCESSES * SHARED_CONCURRENCY, total,
                                sum(f["done"] for f in figures), wall,
                                latencies=[x for f in figures for x in f["sent"]],
                                output_tokens=sum(f["output_tokens"] for f in figures),
                                errors={k: v for f in figures for k, v in f["errors"].items()})
                run.attempts, run.rate_limited, run.failed_attempts = server_counts(sim.log())
                rows.append(_figures(run, config, submit_latencies=[x for f in figures for x in f["submit"]],
                                     budget_wait=sum(f["budget_wait"] or 0.0 for f in figures),
                                     case=f"{total} prompts, {config['rpm']} RPM + {config['otpm']} OTPM, one key",
                                     mode=", ".join(sorted({f["mode"] for f in figures}))))
    finally:
        redis.stop()
    notes = [
        f"One simulator = one API key's limits ({config['rpm']} RPM + {config['otpm']} OTPM, buckets of 10 s); "
        f"{SHARED_PROCESSES} worker processes × concurrency {SHARED_CONCURRENCY}, {per_process} prompts each, "
        f"max_tokens {SHARED_MAX_TOKENS}, the budget's defaults (slow start off); a real redis-server on loopback.",
        "The two rows run at the same time against two separate, identical simulators; wall time from the "
        "common start signal to the last worker's last reply.",
    ]
    return ScenarioResult("shared-limit", "Four processes on one key: one budget through Redis vs each alone",
                          rows, config, notes)


def _seconds(ms: float | None) -> str:
    """Milliseconds as seconds; None (a percentile that falls on a lost prompt) as ∞."""
    return "∞" if ms is None else f"{ms / 1000:.1f}"


#: The table columns of these two scenarios (the load-test columns follow, as for every scenario).
COLUMNS: dict[str, list[report.Column]] = {
    name: [
        ("case / approach", lambda r: f"{r['case']}: {r['label']}"),
        ("goodput % of binding", lambda r: f"{r['goodput_fraction'] * 100:.1f}% of {r['binding_per_min']:g}/min {r['binding']}"),
        ("429s /100 attempts", lambda r: report._num(r.get("rate_limited_per_100"), "{:.1f}")),
        ("attempts/request", lambda r: report._num(r["attempts_per_request"])),
        ("submit→finish p50/p99 s", lambda r: f"{_seconds(r['submit_p50_ms'])}/{_seconds(r['submit_p99_ms'])}"),
        ("p99 of completed s", lambda r: _seconds(r.get("submit_p99_completed_ms"))),
        ("sent→finish p99 s", lambda r: f"{(r.get('p99_e2el_ms') or 0) / 1000:.1f}"),
        ("budget wait s", lambda r: report._num(r.get("budget_wait_s"), "{:.0f}")),
        ("lost", lambda r: r["lost"]),
    ]
    for name in ("rate-limit", "shared-limit")
}
report.SPECIFIC.update(COLUMNS)  # registered here: report.py keeps the generic tables


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        asyncio.run(_worker_main(json.loads(sys.argv[2])))
    else:
        sys.exit("usage: python -m claude_tui.bench.limit_scenarios worker JSON")
