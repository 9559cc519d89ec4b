"""Publishing events: one `pg_notify` per event, on the caller's connection or the pool's.

Inside a transaction (a tenant unit of work, say `setActiveAccount`) use
`publish(conn, event)`: PostgreSQL delivers the notification at COMMIT and
drops it on ROLLBACK, so no process ever hears of a change that did not
happen. Outside one (the stream supervisor forwarding a trade update) use
`publish_now(database, event)`, which borrows a pool connection in
autocommit and is delivered at once.

PostgreSQL folds identical payloads sent on one channel within one
transaction into a single notification; events differ by their ids and
timestamps, so this only ever removes true duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from api.db import Database
from api.realtime.events import CHANNEL, WireEvent, encode


async def publish(conn: asyncpg.Connection, event: WireEvent, *, channel: str = CHANNEL) -> None:
    """Notify on `conn`; inside a transaction the event is delivered at commit only."""
    await conn.execute("select pg_notify($1, $2)", channel, encode(event))


async def publish_many(
    conn: asyncpg.Connection, events: Iterable[WireEvent], *, channel: str = CHANNEL
) -> None:
    """Several events in one round trip (periodic snapshots of many accounts)."""
    payloads = [encode(event) for event in events]
    if payloads:
        await conn.execute(
            "select pg_notify($1, payload) from unnest($2::text[]) as payload", channel, payloads
        )


async def publish_now(database: Database, event: WireEvent, *, channel: str = CHANNEL) -> None:
    """Notify from a pooled connection outside any transaction: delivered immediately."""
    async with database.pool.acquire() as conn:
        await publish(conn, event, channel=channel)
