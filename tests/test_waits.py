"""`wait_at_most`: the background loops' wait ends with their task's cancellation (OPS-01).

A loop that waits for "this event, or the interval" is cancelled at shutdown,
and the event is often set in the same moment (a fill, a device added). On
Python 3.11, `asyncio.wait_for` then returns as if nothing happened, the loop
goes round again and the shutdown awaiting it never ends; these tests set the
event and cancel the task in one step of the event loop, which is that moment.
"""

from __future__ import annotations

import asyncio

from api.waits import wait_at_most


async def _loop(event: asyncio.Event, rounds: list[bool]) -> None:
    while True:
        rounds.append(await wait_at_most(event, 30))
        event.clear()


async def test_cancelled_as_the_event_is_set_the_loop_ends() -> None:
    event, rounds = asyncio.Event(), []
    task = asyncio.create_task(_loop(event, rounds))
    await asyncio.sleep(0.01)
    event.set()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=2)
    assert task in done, "the cancellation was lost: the loop is still running"
    assert task.cancelled()
    assert rounds == []


async def test_it_answers_whether_the_event_came_or_the_time_ran_out() -> None:
    event = asyncio.Event()
    assert await wait_at_most(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_at_most(event, 5) is True
