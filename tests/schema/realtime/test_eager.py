"""run_until_suspended: the fan-out's way to write to many sockets from one task (RT-01)."""

from __future__ import annotations

import asyncio

import pytest

from schema.realtime.eager import Unfinished, run_until_suspended


async def test_a_coroutine_that_never_waits_is_done_at_once() -> None:
    done: list[str] = []

    async def write() -> None:
        done.append("written")

    assert run_until_suspended(write()) is None
    assert done == ["written"]


async def test_one_that_waits_is_finished_by_whoever_awaits_the_rest() -> None:
    gate = asyncio.Event()
    done: list[str] = []

    async def write() -> None:
        done.append("started")
        await gate.wait()
        done.append("written")

    rest = run_until_suspended(write())
    assert rest is not None and done == ["started"]
    finishing = asyncio.create_task(_finish(rest))
    await asyncio.sleep(0.01)
    assert not finishing.done()
    gate.set()
    await asyncio.wait_for(finishing, 1)
    assert done == ["started", "written"]


async def _finish(rest: Unfinished) -> None:
    await rest


async def test_what_it_raises_before_waiting_is_raised_at_once() -> None:
    async def refuse() -> None:
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError):
        run_until_suspended(refuse())


async def test_cancelling_the_finisher_reaches_the_coroutine_and_close_runs_its_finally() -> None:
    cleaned: list[str] = []

    async def write() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append("cleaned")

    rest = run_until_suspended(write())
    assert rest is not None
    finishing = asyncio.create_task(_finish(rest))
    await asyncio.sleep(0.01)
    finishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await finishing
    assert cleaned == ["cleaned"]

    abandoned = run_until_suspended(write())
    assert abandoned is not None
    abandoned.close()
    assert cleaned == ["cleaned", "cleaned"]
