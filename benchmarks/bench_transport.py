"""The pool at N in flight through different HTTP clients, against the bare SDK, on one simulator.

    PYTHONPATH=$PWD python benchmarks/bench_transport.py --concurrency 200 --repeat 3

Clients: ``default`` (the SDK's httpx client), ``limits`` (httpx with the keep-alive limit sized to
the pool), ``aiohttp`` (the SDK's ``DefaultAioHttpClient``, what the pool uses); ``sdk-…`` rows run
the same load through the bare SDK (gather + Semaphore + ``messages.stream``) with that client. The
simulator (every reply exactly 1 s, as in ``bench --scenario scaling``) runs in its own process, so
client CPU per request is the client's alone. Prints one line per run with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from typing import Any

import anthropic
import httpx2

from claude_tui.bench.engine_run import run_pool
from claude_tui.bench.guide import Guide
from claude_tui.bench.scenarios import API_KEY, MAX_TOKENS, MODEL, SCALING_SIM, make_prompts
from claude_tui.bench.simproc import SimProcess
from claude_tui.engine.pool import RequestPool

KINDS = ("default", "limits", "aiohttp", "sdk-default", "sdk-aiohttp")


def client(kind: str, base_url: str, conc: int) -> anthropic.AsyncAnthropic:
    http: Any = None
    if kind == "limits":
        http = anthropic.DefaultAsyncHttpxClient(limits=httpx2.Limits(max_connections=None, max_keepalive_connections=conc))
    elif kind == "aiohttp":
        http = anthropic.DefaultAioHttpClient()
    return anthropic.AsyncAnthropic(api_key=API_KEY, base_url=base_url, max_retries=0, http_client=http)


async def main(conc: int, kinds: list[str], repeat: int) -> None:
    n = 4 * conc
    print(f"{os.cpu_count()} CPUs; every reply 1 s; {n} requests per run after a warm-up wave")
    with SimProcess(**SCALING_SIM) as sim:
        for rep in range(repeat):
            for kind in kinds:
                bare = kind.startswith("sdk-")
                c = client(kind[4:] if bare else kind, sim.base_url, conc)
                if bare:
                    guide = Guide(c, model=MODEL, max_tokens=MAX_TOKENS)
                    await guide.concurrent(make_prompts(conc, "warm "), conc, stream=True)
                    sim.reset()
                    gc.collect()
                    cpu0, t0 = time.process_time(), time.monotonic()
                    out = await guide.concurrent(make_prompts(n, f"r{rep} {kind} "), conc, stream=True)
                    wall, cpu, done = time.monotonic() - t0, time.process_time() - cpu0, out.completed
                    await c.close()
                else:
                    pool = RequestPool(c, limit=conc)
                    await run_pool(pool, make_prompts(conc, "warm "), model=MODEL, max_tokens=MAX_TOKENS)
                    sim.reset()
                    result = await run_pool(pool, make_prompts(n, f"r{rep} {kind} "), model=MODEL, max_tokens=MAX_TOKENS)
                    wall, cpu, done = result.finished - result.started, result.cpu_s, result.completed
                    await pool.aclose()
                stats = sim.stats()
                load = " ".join(f"{v:.2f}" for v in os.getloadavg())
                print(f"{kind:12} in flight {conc}: {done / wall:7.2f} req/s, efficiency {done / wall / conc:6.1%}, "
                      f"client CPU {cpu / done * 1000:5.2f} ms/request, server peak {stats['peak_in_flight']}, load {load}",
                      flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--clients", default=",".join(KINDS), help=f"comma-separated: {', '.join(KINDS)}")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.concurrency, args.clients.split(","), args.repeat))
