"""On Python 3.11 aiohttp's request-body writer runs its first step where its task is created
(as aiohttp does itself from 3.12), and the rest of it behaves as any task: it returns, raises and
is cancelled as before."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from claude_tui.engine.eager_write import NEEDED, WRITER, first_step_now, start_body_writes_eagerly
from claude_tui.engine.pool import RequestPool

pytestmark = pytest.mark.skipif(not NEEDED, reason="from Python 3.12 aiohttp starts its writer eagerly itself")


def writer_like(log: list[str], gate: "asyncio.Future[str]", *, fail_first: bool = False) -> Any:
    async def write_bytes() -> str:
        log.append("first step")
        if fail_first:
            raise OSError("connection reset")
        try:
            got = await gate
        finally:
            log.append("finally")
        log.append(f"rest {got}")
        return "written"

    write_bytes.__qualname__ = WRITER  # what aiohttp's ClientRequest.write_bytes is called
    return write_bytes()


async def test_the_writers_first_step_runs_when_its_task_is_created() -> None:
    loop = asyncio.get_running_loop()
    start_body_writes_eagerly(loop)
    try:
        log: list[str] = []
        gate: asyncio.Future[str] = loop.create_future()
        task = asyncio.create_task(writer_like(log, gate))
        assert log == ["first step"]  # before the loop ran anything: the bytes are out
        other: list[str] = []

        async def not_a_writer() -> None:
            other.append("ran")

        plain = asyncio.create_task(not_a_writer())
        assert other == []  # every other task starts as it always did
        gate.set_result("ok")
        assert await task == "written"
        await plain
        assert log == ["first step", "finally", "rest ok"]
    finally:
        loop.set_task_factory(None)


async def test_a_writer_that_fails_in_its_first_step_fails_its_task() -> None:
    log: list[str] = []
    task = asyncio.ensure_future(first_step_now(writer_like(log, asyncio.get_running_loop().create_future(), fail_first=True)))
    assert log == ["first step"]
    with pytest.raises(OSError, match="connection reset"):
        await task


async def test_a_started_writer_is_cancelled_like_any_task() -> None:
    log: list[str] = []
    task = asyncio.ensure_future(first_step_now(writer_like(log, asyncio.get_running_loop().create_future())))
    await asyncio.sleep(0)  # the task now waits on the gate the first step reached
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["first step", "finally"]


async def test_a_task_factory_set_before_is_kept() -> None:
    loop = asyncio.get_running_loop()
    made: list[str] = []

    def earlier(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> "asyncio.Task[Any]":
        made.append(getattr(coro, "__qualname__", "?"))
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(earlier)
    try:
        start_body_writes_eagerly(loop)
        start_body_writes_eagerly(loop)  # idempotent: one wrapper
        log: list[str] = []
        gate: asyncio.Future[str] = loop.create_future()
        task = asyncio.create_task(writer_like(log, gate))
        assert log == ["first step"] and len(made) == 1
        gate.set_result("ok")
        assert await task == "written"
    finally:
        loop.set_task_factory(None)


async def test_the_pool_starts_its_writers_eagerly() -> None:
    loop = asyncio.get_running_loop()
    try:
        pool = RequestPool(api_key="sk-test-not-real", base_url="http://127.0.0.1:9", limit=1)
        factory = loop.get_task_factory()
        log: list[str] = []
        assert factory is not None
        asyncio.create_task(writer_like(log, loop.create_future())).cancel()
        assert log == ["first step"]
        await pool.aclose()
    finally:
        loop.set_task_factory(None)
