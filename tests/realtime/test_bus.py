"""The event bus on a real PostgreSQL: two buses on one database are two server processes.

RT-02 (events cross processes through LISTEN/NOTIFY), ISO-03 at the bus level
(routing never hands one owner's events to another), the bounded fan-out that
keeps one slow client from hurting the rest, reconnection, and subscriptions
ended from outside (AUTH-03 sign-out, ACCT-05 account removal).
"""

from __future__ import annotations

import asyncio
import time
from uuid import UUID, uuid4

import asyncpg
import pytest

from api.db import Database
from api.db.database import RUNTIME_ROLE
from api.realtime import (
    AccountRemovedEvent,
    ActiveAccountChangedEvent,
    EventBus,
    OrderEvent,
    PositionsChangedEvent,
    ResyncEvent,
    SessionRevokedEvent,
    SnapshotEvent,
    account_key,
    owner_key,
    publish,
    publish_many,
    publish_now,
)
from api.realtime.connections import dedicated_connection
from tests.fixtures.inprocess import InProcessApp
from tests.realtime.factories import next_event, order_event, snapshot, until_closed


class Boom(Exception):
    pass


async def test_rt02_an_event_published_by_one_process_reaches_subscribers_of_every_process(
    bus: EventBus, bus_b: EventBus, db_b: Database
) -> None:
    owner, account = uuid4(), uuid4()
    async with (
        bus.subscribe(account_key(owner, account)) as on_a,
        bus_b.subscribe(account_key(owner, account)) as on_b,
    ):
        sent = order_event(owner, account, event="fill")
        await publish_now(db_b, sent)
        assert await next_event(on_a) == sent
        assert await next_event(on_b) == sent


async def test_rt02_an_event_published_in_a_transaction_arrives_at_commit_only(
    bus: EventBus, db_b: Database
) -> None:
    owner = uuid4()
    async with bus.subscribe(owner_key(owner)) as events:
        committed = ActiveAccountChangedEvent(owner, uuid4())
        async with db_b.tenant(owner) as conn:
            await publish(conn, committed)
            await asyncio.sleep(0.2)
            assert len(events) == 0, "delivered before commit"
        assert await next_event(events) == committed


async def test_rt02_an_event_published_in_a_rolled_back_transaction_is_never_delivered(
    bus: EventBus, db_b: Database
) -> None:
    owner = uuid4()
    async with bus.subscribe(owner_key(owner)) as events:
        with pytest.raises(Boom):
            async with db_b.tenant(owner) as conn:
                await publish(conn, ActiveAccountChangedEvent(owner, uuid4()))
                raise Boom
        marker = ActiveAccountChangedEvent(owner, None)
        await publish_now(db_b, marker)
        assert await next_event(events) == marker
        await asyncio.sleep(0.2)
        assert len(events) == 0


async def test_iso03_a_subscriber_of_account_b_never_receives_account_a_events(
    bus: EventBus, db_b: Database
) -> None:
    owner_a, account_a = uuid4(), uuid4()
    owner_b, account_b = uuid4(), uuid4()
    received_a, received_b = [], []

    async def collect(key: tuple, into: list, last_order: str) -> None:
        async with bus.subscribe(key) as events:
            ready.set()
            async for event in events:
                into.append(event)
                if isinstance(event, OrderEvent) and event.order.id == last_order:
                    return

    ready = asyncio.Event()
    task_a = asyncio.create_task(collect(account_key(owner_a, account_a), received_a, "a-last"))
    await ready.wait()
    ready.clear()
    task_b = asyncio.create_task(collect(account_key(owner_b, account_b), received_b, "b-last"))
    await ready.wait()
    # Someone holding A's account id but not owning it (the GraphQL check forgotten):
    # the owner is part of the key, so nothing arrives here either.
    async with bus.subscribe(account_key(owner_b, account_a)) as forged:
        async with db_b.pool.acquire() as conn:
            for n in range(50):
                await publish_many(
                    conn,
                    [
                        snapshot(owner_a, account_a, n),
                        order_event(owner_a, account_a, f"a-{n}"),
                        snapshot(owner_b, account_b, n),
                        order_event(owner_b, account_b, f"b-{n}"),
                        PositionsChangedEvent(account_a, owner_a),
                    ],
                )
            await publish(conn, order_event(owner_a, account_a, "a-last"))
            await publish(conn, order_event(owner_b, account_b, "b-last"))
        async with asyncio.timeout(5):
            await asyncio.gather(task_a, task_b)
        assert len(forged) == 0

    assert received_b and all(
        e.account_id == account_b and e.owner_id == owner_b for e in received_b
    )
    assert all(e.account_id == account_a and e.owner_id == owner_a for e in received_a)
    orders_b = [e.order.id for e in received_b if isinstance(e, OrderEvent)]
    assert orders_b == [f"b-{n}" for n in range(50)] + ["b-last"]


async def test_snapshots_coalesce_for_a_subscriber_that_is_not_reading(
    bus: EventBus, db_b: Database
) -> None:
    owner, account = uuid4(), uuid4()
    key = account_key(owner, account)
    async with bus.subscribe(key) as idle, bus.subscribe(key) as reader:
        async with db_b.pool.acquire() as conn:
            await publish_many(conn, [snapshot(owner, account, n) for n in range(200)])
            await publish(conn, PositionsChangedEvent(account, owner))
        while not isinstance(await next_event(reader), PositionsChangedEvent):
            pass
        pending = [await next_event(idle), await next_event(idle)]
    assert isinstance(pending[0], SnapshotEvent) and pending[0].cash == 199
    assert pending[1] == PositionsChangedEvent(account, owner)


async def test_a_slow_subscriber_never_delays_a_fast_one_and_stays_within_its_bound(
    bus: EventBus, db_b: Database
) -> None:
    """The stuck client gets one resync instead of unbounded memory or lost orders."""
    owner, account = uuid4(), uuid4()
    key = account_key(owner, account)
    total, batch_size = 600, 50
    async with bus.subscribe(key, limit=16) as slow, bus.subscribe(key) as fast:
        got: list[str] = []
        resyncs: list[ResyncEvent] = []
        caught_up = asyncio.Event()

        async def read_fast() -> None:
            async for event in fast:
                if isinstance(event, ResyncEvent):
                    caught_up.set()  # fail fast below rather than time out
                    resyncs.append(event)
                elif isinstance(event, OrderEvent):
                    got.append(event.order.id)
                    if len(got) % batch_size == 0:
                        caught_up.set()

        reader = asyncio.create_task(read_fast())
        waits = []
        async with db_b.pool.acquire() as conn:
            # Batch by batch: each batch's latency to the reader is measured while the
            # slow subscriber (which never reads) sits on a full queue.
            for start in range(0, total, batch_size):
                caught_up.clear()
                sent = time.monotonic()
                await publish_many(
                    conn,
                    [snapshot(owner, account, start)]
                    + [order_event(owner, account, str(n)) for n in range(start, start + 50)],
                )
                async with asyncio.timeout(5):
                    await caught_up.wait()
                waits.append(time.monotonic() - sent)
                assert not resyncs, "the reading subscriber overflowed"
                assert len(slow) <= 16
        fast.close()
        await reader

        assert got == [str(n) for n in range(total)], "the reader lost or reordered orders"
        assert max(waits) < 1, f"a batch took {max(waits):.2f}s to reach the reader"
        assert slow.overflows >= 1
        first = await next_event(slow)
        assert first == ResyncEvent("overflow")


async def test_reconnects_after_the_listening_backend_is_terminated_and_tells_subscribers_to_resync(
    bus: EventBus, db_b: Database, owner: asyncpg.Connection
) -> None:
    owner_id, account = uuid4(), uuid4()
    async with (
        bus.subscribe(account_key(owner_id, account)) as events,
        bus.subscribe(owner_key(owner_id)) as other,
    ):
        first_pid = bus.listener_pid
        assert await owner.fetchval("select pg_terminate_backend($1)", first_pid)
        # told at once that nothing is live, then (once listening again) to resync
        assert await next_event(events, within=10) == ResyncEvent("unavailable")
        assert await next_event(events, within=10) == ResyncEvent("reconnected")
        # a subscriber that read nothing meanwhile holds only the newest resync
        assert await next_event(other, within=1) == ResyncEvent("reconnected")
        assert bus.connected and bus.listener_pid != first_pid and bus.reconnects == 1

        later = order_event(owner_id, account, event="fill")
        await publish_now(db_b, later)
        assert await next_event(events) == later


async def test_the_listener_is_named_and_runs_as_the_unprivileged_runtime_role(
    bus: EventBus, db: Database, owner: asyncpg.Connection
) -> None:
    name = await owner.fetchval(
        "select application_name from pg_stat_activity where pid = $1", bus.listener_pid
    )
    assert name == "alpaca-chat-events"
    conn = await dedicated_connection(db, "alpaca-chat-events")
    try:
        assert await conn.fetchval("select current_user") == RUNTIME_ROLE
    finally:
        await conn.close()


async def test_a_session_revoked_event_ends_every_subscription_of_that_session_within_a_second(
    bus: EventBus, bus_b: EventBus, db_b: Database
) -> None:
    """The bus's half of AUTH-03: however the event comes, the session's subscriptions end."""
    user, account = uuid4(), uuid4()
    revoked, kept = uuid4(), uuid4()
    async with (
        bus.subscribe(account_key(user, account), session_id=revoked) as a1,
        bus.subscribe(owner_key(user), session_id=revoked) as a2,
        bus_b.subscribe(account_key(user, account), session_id=revoked) as b1,
        bus.subscribe(account_key(user, account), session_id=kept) as other_device,
    ):
        a1.put_nowait(snapshot(user, account))  # queued, yet never delivered once revoked
        started = time.monotonic()
        await publish_now(db_b, SessionRevokedEvent(revoked, user))
        # a2 and b1 have nothing queued, so they end exactly when revoked; a1 was
        # closed by the same dispatch as a2, and its queued snapshot is gone.
        for sub in (a2, b1):
            assert await until_closed(sub, within=1) == []
        assert time.monotonic() - started < 1
        assert a1.closed
        for sub in (a1, a2, b1):
            assert await until_closed(sub, within=1) == []
            assert sub.close_reason == "session_revoked"

        later = snapshot(user, account, 7)
        await publish_now(db_b, later)
        assert await next_event(other_device) == later
        assert bus.subscriber_count == 1


async def test_auth03_sign_out_ends_the_sessions_subscriptions_on_every_bus(
    app: InProcessApp, bus_b: EventBus
) -> None:
    """AUTH-03: the signOut mutation (the real auth service, in process) reaches the app's own
    bus and another process's bus, and ends that session's subscriptions only."""
    user = await app.sign_up()
    signed_out = await app.services.auth.authenticate(user.token)
    other_device = await app.services.auth.authenticate((await app.sign_in(user.email)).token)
    assert signed_out is not None and other_device is not None
    key = owner_key(UUID(user.id))
    async with (
        app.services.bus.subscribe(key, session_id=signed_out.session_id) as here,
        bus_b.subscribe(key, session_id=signed_out.session_id) as elsewhere,
        bus_b.subscribe(key, session_id=other_device.session_id) as kept,
    ):
        assert await app.data("mutation { signOut }", token=user.token) == {"signOut": True}
        for sub in (here, elsewhere):
            assert await until_closed(sub, within=1) == []
            assert sub.close_reason == "session_revoked"
        assert not kept.closed


async def test_acct05_account_removed_ends_its_subscriptions_and_tells_the_owner(
    bus: EventBus, db_b: Database
) -> None:
    user, removed, remaining = uuid4(), uuid4(), uuid4()
    async with (
        bus.subscribe(account_key(user, removed)) as gone,
        bus.subscribe(account_key(user, remaining)) as stays,
        bus.subscribe(owner_key(user)) as owner_events,
    ):
        event = AccountRemovedEvent(removed, user)
        await publish_now(db_b, event)
        assert await until_closed(gone, within=1) == []
        assert gone.close_reason == "account_removed"
        assert await next_event(owner_events) == event

        later = snapshot(user, remaining)
        await publish_now(db_b, later)
        assert await next_event(stays) == later


async def test_leaving_the_block_unsubscribes_and_stopping_the_bus_ends_subscriptions(
    db: Database,
) -> None:
    bus = EventBus(db)
    await bus.start()
    user = uuid4()
    async with bus.subscribe(owner_key(user)):
        assert bus.subscriber_count == 1
    assert bus.subscriber_count == 0

    async with bus.subscribe(owner_key(user)) as events:
        waiting = asyncio.create_task(until_closed(events))
        await asyncio.sleep(0.05)
        await bus.stop()
        assert await waiting == []
        assert events.close_reason == "shutdown"
    with pytest.raises(RuntimeError):
        bus.subscribe(owner_key(user))
