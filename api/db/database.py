"""Connection pools and the tenant scope every unit of work runs in.

Two identities
(docs/architecture.md#decision-1-the-database-enforces-tenancy): the owner runs migrations and
operator commands; requests run as `alpaca_chat_app`, which is neither
superuser nor owner, so row-level security always applies. Each unit of work
is one short transaction whose first statement sets `app.user_id` with
`set_config(..., true)`: the setting dies with the transaction, so a pooled
connection never carries one tenant into the next request.

Each unit of work is also the one place Piccolo querysets run (api/db/engine.py):
the tables' engine uses the connection of the unit of work in progress, raw
SQL on the yielded connection shares its transaction, and units of work do
not nest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg

from api.db.engine import TABLE_ENGINE, running_on
from api.db.outage import OutageLog, is_outage

RUNTIME_ROLE = "alpaca_chat_app"
OPS_ROLE = "alpaca_chat_ops"


def _with_user(dsn: str, user: str) -> str:
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """Pooled connections keep no session state: identity is transaction-local,
    LISTEN and advisory locks live on dedicated connections. asyncpg still rolls
    back an open transaction itself; this skips its RESET ALL round trip per use."""


class Database:
    """The runtime pool (as the unprivileged role) and the owner's DSN.

    `login_as_runtime_role` logs in as the runtime role directly (the embedded
    server trusts local connections); otherwise the owner's credentials open
    the connection and the startup packet switches it to the runtime role.
    """

    def __init__(self, owner_dsn: str, *, login_as_runtime_role: bool) -> None:
        self.owner_dsn = owner_dsn
        self._login_as_runtime_role = login_as_runtime_role
        self._pool: asyncpg.Pool | None = None
        # one log line when the database goes away and one when it is back
        self.outages = OutageLog()

    async def connect(self, *, min_size: int = 2, max_size: int = 10) -> None:
        settings = {"application_name": "alpaca-chat", "jit": "off"}
        if self._login_as_runtime_role:
            dsn = _with_user(self.owner_dsn, RUNTIME_ROLE)
        else:
            dsn, settings["role"] = self.owner_dsn, RUNTIME_ROLE
        self._pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            server_settings=settings,
            reset=_nothing_to_reset,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database is not connected")
        return self._pool

    @asynccontextmanager
    async def tenant(self, user_id: UUID) -> AsyncIterator[asyncpg.Connection]:
        """One transaction acting as `user_id`; RLS shows that user's rows only.

        Table querysets inside it run on the yielded connection; opening another
        unit of work inside it raises NestedUnitOfWork.
        """
        # BEGIN and set_config in one round trip; UUID() guarantees a safe literal.
        literal = str(UUID(str(user_id)))
        try:
            async with self.pool.acquire() as conn:
                with running_on(TABLE_ENGINE, conn):
                    try:
                        # inside the try: a task cancelled while BEGIN is under way (a
                        # sibling resolver failed) must roll back, not hand the pool an
                        # open transaction
                        await conn.execute(
                            f"begin; select set_config('app.user_id', '{literal}', true)"
                        )
                        yield conn
                    except BaseException:
                        if not conn.is_closed():
                            await conn.execute("rollback")
                        raise
                    else:
                        await conn.execute("commit")
        except BaseException as error:
            if is_outage(error):
                self.outages.failed(error)
            raise
        self.outages.answered()

    @asynccontextmanager
    async def anonymous(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction with no user: only the SECURITY DEFINER functions help here."""
        try:
            async with self.pool.acquire() as conn:
                with running_on(TABLE_ENGINE, conn):
                    async with conn.transaction():
                        yield conn
        except BaseException as error:
            if is_outage(error):
                self.outages.failed(error)
            raise
        self.outages.answered()

    @asynccontextmanager
    async def as_operator(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction as the operator role, for commands run by whoever runs the server."""
        conn = await asyncpg.connect(self.owner_dsn)
        try:
            with running_on(TABLE_ENGINE, conn):
                async with conn.transaction():
                    await conn.execute(f"set local role {OPS_ROLE}")
                    yield conn
        finally:
            await conn.close()
