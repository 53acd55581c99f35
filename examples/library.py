"""Use the engine as a library: 20 prompts through the pool, then the metrics.

Runs against the built-in simulator (no key needed): python examples/library.py
"""

import asyncio

from claude_tui.engine.job import Job
from claude_tui.engine.metrics import Metrics
from claude_tui.engine.pool import RequestPool
from claude_tui.simulator import Simulator, SimulatorConfig


async def main() -> None:
    async with Simulator(SimulatorConfig(ttft_ms=200, tps=300, reply_tokens=120)) as sim:
        pool = RequestPool(api_key="sim-key", base_url=sim.base_url, limit=5)
        metrics = Metrics()
        pool.add_listener(metrics.observe)
        handles = [pool.submit(Job.from_prompt(f"Tell me fact #{i} about queues", max_tokens=300)) for i in range(20)]
        results = await asyncio.gather(*(handle.result() for handle in handles))
        await pool.aclose()
    snap = metrics.snapshot()
    print(f"{snap.done} done, {snap.failed} failed in {snap.elapsed:.1f} s")
    print(f"TTFT p50 {snap.ttft.p50 * 1000:.0f} ms, p99 {snap.ttft.p99 * 1000:.0f} ms")
    print(f"latency p50 {snap.latency.p50 * 1000:.0f} ms, p99 {snap.latency.p99 * 1000:.0f} ms")
    print(f"{snap.output_tokens} output tokens, estimated cost ${snap.cost:.4f}")
    print("first reply starts:", results[0].text[:60].replace("\n", " "), "…")


if __name__ == "__main__":
    asyncio.run(main())
