"""RT-03: one broker stream per account across all processes, handed over when the owner dies.

Each `StreamLocks` here stands for one server process (its own database pool
and its own lock connection); the advisory lock decides which one owns an
account's stream.
"""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import asyncpg

from api.db import Database
from api.realtime import StreamLocks, lock_key


def _locks(database: Database) -> StreamLocks:
    return StreamLocks(database, health_interval=0.5, health_timeout=2.0)


async def test_rt03_exactly_one_process_owns_an_account_stream(
    db: Database, db_b: Database
) -> None:
    processes = [_locks(db), _locks(db), _locks(db_b)]
    account = uuid4()
    try:
        attempts = [p.try_acquire(account) for p in processes for _ in range(3)]
        results = await asyncio.gather(*attempts)
        owners = [r for r in results if r is not None]
        assert len(owners) == 1, "exactly one owner, also within one process"
        assert sum(bool(p.owned) for p in processes) == 1

        # Other accounts are independent of this one.
        others = [await p.try_acquire(uuid4()) for p in processes]
        assert all(o is not None and o.held for o in others)
    finally:
        for p in processes:
            await p.close()


async def test_rt03_released_ownership_is_taken_by_another_process_at_once(
    db: Database, db_b: Database
) -> None:
    a, b = _locks(db), _locks(db_b)
    account = uuid4()
    try:
        async with await a.try_acquire(account) as ownership:
            assert ownership is not None and ownership.held
            assert await b.try_acquire(account) is None
        assert not ownership.held and not ownership.lost
        taken = await b.try_acquire(account)
        assert taken is not None and taken.held
        assert await a.try_acquire(account) is None
    finally:
        await a.close()
        await b.close()


async def test_rt03_ownership_moves_when_the_owners_connection_is_terminated(
    db: Database, db_b: Database, owner: asyncpg.Connection
) -> None:
    a, b = _locks(db), _locks(db_b)
    account = uuid4()
    try:
        held = await a.try_acquire(account)
        assert held is not None
        standby = asyncio.create_task(b.acquire(account, poll_interval=0.2))
        await asyncio.sleep(0.5)
        assert not standby.done()

        started = time.monotonic()
        assert await owner.fetchval("select pg_terminate_backend($1)", a.backend_pid)
        async with asyncio.timeout(5):
            await held.wait_lost()
            taken = await standby
        assert held.lost and not held.held and account not in a.owned
        assert taken.held and b.owned == {account}
        assert time.monotonic() - started < 3

        # The old owner's process keeps working: it reconnects, and now finds the lock taken.
        assert await a.try_acquire(account) is None
    finally:
        await a.close()
        await b.close()


async def test_rt03_a_process_that_shuts_down_gives_up_all_its_streams(
    db: Database, db_b: Database
) -> None:
    a, b = _locks(db), _locks(db_b)
    accounts = [uuid4() for _ in range(5)]
    try:
        for account in accounts:
            assert await a.try_acquire(account) is not None
        await a.close()
        for account in accounts:
            assert await b.try_acquire(account) is not None
    finally:
        await b.close()


async def test_the_lock_connection_is_named_and_holds_the_key_derived_from_the_account(
    db: Database, owner: asyncpg.Connection
) -> None:
    locks = _locks(db)
    account = uuid4()
    try:
        await locks.try_acquire(account)
        key = lock_key(account)
        row = await owner.fetchrow(
            """select a.application_name, l.granted from pg_locks l
               join pg_stat_activity a on a.pid = l.pid
               where l.locktype = 'advisory' and l.pid = $1
                 and l.classid::bigint = ($2::bigint >> 32) & 4294967295
                 and l.objid::bigint = $2::bigint & 4294967295""",
            locks.backend_pid,
            key,
        )
        assert row is not None and row["granted"]
        assert row["application_name"] == "alpaca-chat-stream-locks"
    finally:
        await locks.close()


def test_lock_keys_are_stable_signed_64_bit_and_distinct() -> None:
    account = uuid4()
    assert lock_key(account) == lock_key(account)
    keys = {lock_key(uuid4()) for _ in range(10_000)}
    assert len(keys) == 10_000
    assert all(-(2**63) <= k < 2**63 for k in keys)
