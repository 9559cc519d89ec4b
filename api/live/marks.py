"""Up to when an account's order changes were reported, kept across restarts (RT-01, RT-03).

The order ledger (`api.live.ledger`) lives in one process's memory, so after a
restart, or when another process takes a stream over, nobody would know what
happened while no stream listened. The stream's owner therefore stores, in the
owner's tenant scope, a moment up to which every change was reported
(app.stream_marks), moving it forward while its stream listens; whoever owns
the stream next reconciles from there. A mark only moves forward.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from api.db import Database


async def reported_through(database: Database, owner_id: UUID, account_id: UUID) -> datetime | None:
    """The account's mark, or None when no stream of it ever reported anything."""
    async with database.tenant(owner_id) as conn:
        mark: datetime | None = await conn.fetchval(
            "select reported_through from app.stream_marks where account_id = $1", account_id
        )
    return mark


async def mark_reported(
    database: Database, owner_id: UUID, account_id: UUID, through: datetime
) -> None:
    """Every order change of the account up to `through` was reported."""
    async with database.tenant(owner_id) as conn:
        await conn.execute(
            """insert into app.stream_marks (account_id, owner_id, reported_through)
               values ($1, $2, $3)
               on conflict (account_id) do update
                  set reported_through = greatest(app.stream_marks.reported_through,
                                                  excluded.reported_through)""",
            account_id,
            owner_id,
            through,
        )
