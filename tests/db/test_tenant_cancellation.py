"""A unit of work cancelled at any point gives its connection back with no transaction open.

graphql-core cancels sibling resolvers once one non-null field fails; a cancellation that
landed while BEGIN was under way used to hand the pool an open transaction (asyncpg logged
"Resetting connection with an active transaction"). ISO-01: a pooled connection must never
carry a unit of work, let alone a tenant's identity, into the next one.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import uuid4

import pytest

from api.db import Database


@pytest.mark.parametrize("scope", ["tenant", "anonymous"])
async def test_cancelled_units_of_work_leave_no_open_transaction_ISO_01(
    db: Database, scope: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def work() -> None:
        unit_of_work = db.tenant(uuid4()) if scope == "tenant" else db.anonymous()
        async with unit_of_work as conn:
            await conn.execute("select pg_sleep(1)")

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        # cancelled at every early step: acquiring, during BEGIN, during the statement
        for delay in (0, 0, 0.0005, 0.001, 0.002, 0.005, 0.02, 0.1):
            task = asyncio.create_task(work())
            await asyncio.sleep(delay)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert not [r for r in caplog.records if "active transaction" in r.getMessage()]
    async with db.tenant(uuid4()) as conn:
        assert await conn.fetchval("select current_setting('app.user_id', true)")
    assert await db.pool.fetchval("select current_setting('app.user_id', true)") in (None, "")
