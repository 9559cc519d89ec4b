"""The per-subscriber queue: bounded, coalescing, and never silently losing an order event."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from api.realtime import OrderEvent, PositionsChangedEvent, ResyncEvent, SnapshotEvent
from api.realtime.queues import SubscriberQueue
from tests.realtime.factories import order_event, snapshot

OWNER, ACCOUNT = uuid4(), uuid4()


def drain(queue: SubscriberQueue) -> list:
    items = []
    while len(queue):
        items.append(queue._items.pop(0))
    return items


def test_snapshots_coalesce_to_the_newest() -> None:
    queue = SubscriberQueue(limit=8)
    for cash in range(100):
        queue.put_nowait(snapshot(OWNER, ACCOUNT, cash))
    (only,) = drain(queue)
    assert isinstance(only, SnapshotEvent) and only.cash == 99


def test_a_coalesced_event_moves_behind_the_events_it_follows() -> None:
    queue = SubscriberQueue(limit=8)
    queue.put_nowait(snapshot(OWNER, ACCOUNT, 1))
    order = order_event(OWNER, ACCOUNT)
    queue.put_nowait(order)
    queue.put_nowait(PositionsChangedEvent(ACCOUNT, OWNER))
    queue.put_nowait(snapshot(OWNER, ACCOUNT, 2))
    queue.put_nowait(PositionsChangedEvent(ACCOUNT, OWNER))
    kinds = [event.kind for event in drain(queue)]
    assert kinds == ["order", "snapshot", "positions_changed"]


def test_a_full_queue_drops_the_pending_snapshot_before_anything_else() -> None:
    queue = SubscriberQueue(limit=4)
    queue.put_nowait(snapshot(OWNER, ACCOUNT))
    orders = [order_event(OWNER, ACCOUNT) for _ in range(4)]
    for order in orders:
        queue.put_nowait(order)
    assert drain(queue) == orders
    assert queue.dropped == 1 and queue.overflows == 0


def test_order_events_are_never_dropped_silently_overflow_becomes_one_resync() -> None:
    queue = SubscriberQueue(limit=4)
    orders = [order_event(OWNER, ACCOUNT) for _ in range(5)]
    for order in orders:
        queue.put_nowait(order)
    assert queue.overflows == 1
    first, *rest = drain(queue)
    assert first == ResyncEvent("overflow")
    assert rest == orders[4:]
    # Staying behind keeps memory bounded: the queue never exceeds its limit.
    for _ in range(1000):
        queue.put_nowait(order_event(OWNER, ACCOUNT))
        assert len(queue) <= 4
    assert sum(isinstance(e, ResyncEvent) for e in queue._items) == 1


def test_a_resync_supersedes_everything_queued_before_it() -> None:
    queue = SubscriberQueue(limit=8)
    queue.put_nowait(order_event(OWNER, ACCOUNT))
    queue.put_nowait(snapshot(OWNER, ACCOUNT))
    queue.put_nowait(ResyncEvent("reconnected"))
    queue.put_nowait(ResyncEvent("reconnected"))
    assert drain(queue) == [ResyncEvent("reconnected")]


async def test_a_waiting_consumer_is_woken_by_put_and_by_close() -> None:
    queue = SubscriberQueue()
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    event = order_event(OWNER, ACCOUNT)
    queue.put_nowait(event)
    assert await asyncio.wait_for(waiting, 1) is event

    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.close("session_revoked")
    assert await asyncio.wait_for(waiting, 1) is None


async def test_close_discards_what_was_queued_and_ignores_later_events() -> None:
    queue = SubscriberQueue()
    queue.put_nowait(order_event(OWNER, ACCOUNT))
    queue.close("session_revoked")
    queue.put_nowait(order_event(OWNER, ACCOUNT))
    assert await queue.get() is None
    assert queue.close_reason == "session_revoked"


async def test_a_cancelled_consumer_leaves_the_queue_usable() -> None:
    queue = SubscriberQueue()
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    event = order_event(OWNER, ACCOUNT)
    queue.put_nowait(event)
    assert isinstance(await queue.get(), OrderEvent)


def test_a_limit_too_small_for_a_resync_is_refused() -> None:
    with pytest.raises(ValueError):
        SubscriberQueue(limit=1)
