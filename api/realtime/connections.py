"""Long-lived connections outside the pool, and the backoff used to reopen them.

LISTEN and session-level advisory locks belong to one server session, so the
bus and the stream-ownership locks each hold a connection of their own rather
than borrowing from the request pool (which resets sessions and would lose
both). They log in as the unprivileged runtime role like every request does
(`Database.runtime_dsn`), so no `RESET ROLE` on them reaches the owner's rights.
"""

from __future__ import annotations

import random

import asyncpg

from api.db import Database

# What a dropped or unreachable database looks like from asyncpg.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    # a connection that broke in the middle of an operation can answer the next one so
    # ("cannot switch to state ...; another operation is in progress")
    asyncpg.InternalClientError,
)


CONNECT_TIMEOUT = 10.0


async def dedicated_connection(database: Database, application_name: str) -> asyncpg.Connection:
    """A connection of its own as the runtime role, named for pg_stat_activity."""
    return await asyncpg.connect(
        database.runtime_dsn,
        timeout=CONNECT_TIMEOUT,
        server_settings={"application_name": application_name},
    )


def backoff_delay(attempt: int, *, base: float, cap: float) -> float:
    """Exponential delay with jitter for reconnect attempt `attempt` (0-based).

    Half fixed, half random ("equal jitter"): never immediate, and after a
    database restart the processes of a deployment do not all return at once.
    """
    ceiling: float = min(cap, base * 2 ** min(attempt, 32))
    return ceiling / 2 + random.uniform(0, ceiling / 2)
