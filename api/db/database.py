"""Connection pools and the tenant scope every unit of work runs in.

Two identities
(docs/architecture.md#decision-1-the-database-enforces-tenancy): the owner runs migrations and
operator commands; requests run as `alpaca_chat_app`, which is neither
superuser nor owner, so row-level security always applies. Requests log in as
that role itself, never as the owner switched to it: a `RESET ROLE` on a
connection that the owner's credentials opened would hand back the owner's
rights (often a superuser's, which bypass RLS). Each unit of work
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

from api.config import ConfigError
from api.db.engine import TABLE_ENGINE, running_on
from api.db.outage import OutageLog, is_outage

RUNTIME_ROLE = "alpaca_chat_app"
OPS_ROLE = "alpaca_chat_ops"


MISSING_RUNTIME_LOGIN = (
    "RUNTIME_DATABASE_URL is required with DATABASE_URL to serve: a postgresql:// URL that "
    f"logs in as {RUNTIME_ROLE} (README, 'Your own PostgreSQL')"
)


def with_user(dsn: str, user: str) -> str:
    """`dsn` logging in as `user`, without a password (the embedded server trusts local users)."""
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """Pooled connections keep no session state: identity is transaction-local,
    LISTEN and advisory locks live on dedicated connections. asyncpg still rolls
    back an open transaction itself; this skips its RESET ALL round trip per use."""


class Database:
    """The runtime pool (logged in as the unprivileged role) and the owner's DSN.

    `runtime_dsn` logs in as the runtime role: the embedded server's trusted local
    login, or RUNTIME_DATABASE_URL. Without one, only the owner's operator work is
    possible (migrations, invites, key rotation); `connect` refuses.
    """

    def __init__(self, owner_dsn: str, runtime_dsn: str | None) -> None:
        self.owner_dsn = owner_dsn
        self._runtime_dsn = runtime_dsn
        self._pool: asyncpg.Pool | None = None
        # one log line when the database goes away and one when it is back
        self.outages = OutageLog()

    @property
    def runtime_dsn(self) -> str:
        """The runtime role's own login (connections outside the pool use it too)."""
        if self._runtime_dsn is None:
            raise ConfigError(MISSING_RUNTIME_LOGIN)
        return self._runtime_dsn

    async def connect(self, *, min_size: int = 2, max_size: int = 10) -> None:
        """Open the runtime pool; ConfigError unless it logs in as the runtime role itself."""
        pool = await asyncpg.create_pool(
            self.runtime_dsn,
            min_size=min_size,
            max_size=max_size,
            server_settings={"application_name": "alpaca-chat", "jit": "off"},
            reset=_nothing_to_reset,
        )
        # the login itself must be the role: anything else could RESET ROLE out of it
        login = await pool.fetchrow(
            "select session_user as name, rolsuper or rolbypassrls as privileged"
            " from pg_roles where rolname = session_user"
        )
        if login["name"] != RUNTIME_ROLE or login["privileged"]:
            await pool.close()
            what = "a privileged role" if login["privileged"] else login["name"]
            raise ConfigError(
                f"RUNTIME_DATABASE_URL must log in as {RUNTIME_ROLE}, neither superuser nor "
                f"BYPASSRLS (it logs in as {what})"
            )
        self._pool = pool

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
