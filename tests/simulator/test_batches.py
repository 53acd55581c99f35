"""Message Batches in the simulator, driven by the unmodified SDK's `client.messages.batches`."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Awaitable, Callable

import anthropic
import pytest
from sim_helpers import MODEL, client_for

from claude_tui.simulator import Simulator
from claude_tui.simulator.config import SimulatorConfig, parse_faults


def req(custom_id: str, text: str = "Hello there", **params: Any) -> dict[str, Any]:
    body = {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": text}], **params}
    return {"custom_id": custom_id, "params": body}


async def until_ended(client: anthropic.AsyncAnthropic, batch_id: str) -> Any:
    """Poll as a client would; bounded so a batch that never ends fails the test instead of hanging."""
    async with asyncio.timeout(20):
        while True:
            batch = await client.messages.batches.retrieve(batch_id)
            if batch.processing_status == "ended":
                return batch
            await asyncio.sleep(0.05)


async def test_create_retrieve_results_delete(make_sim: Callable[..., Awaitable[Simulator]]) -> None:
    sim = await make_sim(batch_seconds=0.3)
    client = client_for(sim)
    batch = await client.messages.batches.create(requests=[req(f"r{i}", f"question {i}") for i in range(5)]
                                                 + [req("bad", model="claude-imaginary-1")])
    assert batch.id.startswith("msgbatch_") and batch.type == "message_batch"
    assert batch.processing_status == "in_progress" and batch.results_url is None and batch.ended_at is None
    assert batch.expires_at - batch.created_at == timedelta(hours=24)
    counts = batch.request_counts
    assert (counts.processing, counts.succeeded, counts.errored) == (6, 0, 0)  # no partial progress
    with pytest.raises(anthropic.AnthropicError, match="results_url"):
        await client.messages.batches.results(batch.id)
    with pytest.raises(anthropic.BadRequestError):  # still running: must be cancelled first
        await client.messages.batches.delete(batch.id)

    ended = await until_ended(client, batch.id)
    assert ended.ended_at is not None and ended.results_url.startswith(sim.base_url)
    c = ended.request_counts
    assert (c.processing, c.succeeded, c.errored, c.canceled, c.expired) == (0, 5, 1, 0, 0)
    results = {r.custom_id: r.result async for r in await client.messages.batches.results(batch.id)}
    assert set(results) == {"r0", "r1", "r2", "r3", "r4", "bad"}
    ok = results["r0"]
    assert ok.type == "succeeded" and ok.message.content[0].text and ok.message.usage.output_tokens == 60
    assert ok.message.usage.service_tier == "batch"  # priced at 50 %
    assert results["bad"].type == "errored" and results["bad"].error.error.type == "not_found_error"
    assert sim.stats.requests_total == 0  # batch work is not /v1/messages traffic

    deleted = await client.messages.batches.delete(batch.id)
    assert deleted.id == batch.id and deleted.type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        await client.messages.batches.retrieve(batch.id)
    await client.close()


async def test_cancel_ends_with_the_rest_canceled(make_sim: Callable[..., Awaitable[Simulator]]) -> None:
    sim = await make_sim(batch_seconds=600)
    client = client_for(sim)
    batch = await client.messages.batches.create(requests=[req(f"r{i}") for i in range(4)])
    canceling = await client.messages.batches.cancel(batch.id)
    assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
    ended = await until_ended(client, batch.id)
    assert ended.request_counts.canceled == 4 and ended.request_counts.processing == 0
    kinds = [r.result.type async for r in await client.messages.batches.results(batch.id)]
    assert kinds == ["canceled"] * 4
    await client.close()


async def test_list_is_paginated_newest_first(make_sim: Callable[..., Awaitable[Simulator]]) -> None:
    sim = await make_sim(batch_seconds=600)
    client = client_for(sim)
    ids = [(await client.messages.batches.create(requests=[req("a")])).id for _ in range(5)]
    page = await client.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == [ids[4], ids[3]] and page.has_more
    assert page.first_id == ids[4] and page.last_id == ids[3]
    every = [b.id async for b in client.messages.batches.list(limit=2)]  # the SDK follows after_id
    assert every == ids[::-1]
    before = await client.messages.batches.list(before_id=ids[1], limit=2)
    assert [b.id for b in before.data] == [ids[3], ids[2]]
    with pytest.raises(anthropic.BadRequestError):
        await client.messages.batches.list(limit=1001)
    await client.close()


async def test_limits_are_refused_whole(make_sim: Callable[..., Awaitable[Simulator]]) -> None:
    sim = await make_sim(batch_seconds=600)
    client = client_for(sim)
    with pytest.raises(anthropic.BadRequestError, match="custom_id"):
        await client.messages.batches.create(requests=[req("same"), req("same")])
    with pytest.raises(anthropic.BadRequestError, match="stream"):
        await client.messages.batches.create(requests=[req("s", stream=True)])
    with pytest.raises(anthropic.BadRequestError, match="100,000"):
        await client.messages.batches.create(requests=[req(f"r{i}", "x") for i in range(100_001)])
    assert [b async for b in client.messages.batches.list()] == []
    await client.close()


async def test_faults_make_requests_error_or_expire(make_sim: Callable[..., Awaitable[Simulator]]) -> None:
    sim = await make_sim(batch_seconds=0.1, faults={"batch_errored": 0.3, "batch_expired": 0.3})
    client = client_for(sim)
    batch = await client.messages.batches.create(requests=[req(f"r{i}", f"q {i}") for i in range(200)])
    ended = await until_ended(client, batch.id)
    c = ended.request_counts
    assert c.succeeded + c.errored + c.expired == 200
    assert 30 < c.errored < 90 and 30 < c.expired < 90
    kinds = {r.result.type async for r in await client.messages.batches.results(batch.id)}
    assert kinds == {"succeeded", "errored", "expired"}
    await client.close()


def test_batch_config_and_flags() -> None:
    cfg = SimulatorConfig(faults=parse_faults("batch_errored=0.05,rate_limit=0.1"))
    assert cfg.faults == {"rate_limit": 0.1} and cfg.batch_faults == {"batch_errored": 0.05}
    with pytest.raises(ValueError):
        SimulatorConfig(batch_seconds=-1)
    import argparse

    from claude_tui.simulator.cli_args import add_simulate_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    cfg = config_from_args(parser.parse_args(["--batch-seconds", "2", "--fail", "batch_expired=0.02"]))
    assert cfg.batch_seconds == 2 and cfg.batch_faults == {"batch_expired": 0.02}
