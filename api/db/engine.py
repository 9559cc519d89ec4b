"""The Piccolo engines: the one every table runs on at run time, and the owner's.

Piccolo finds a query's connection through its engine: the engine's current
transaction (a ContextVar) if one is set, else its own pool, else a new
connection. At run time only the first is acceptable, because the connection
decides the identity: a unit of work (`Database.tenant`, `anonymous`,
`as_operator`) holds a connection whose first statement set `app.user_id`
transaction-locally, as the unprivileged role (CRED-04). So `TABLE_ENGINE`
owns no pool and no address: each query runs on the connection of the unit of
work in progress, whichever `Database` opened it, and a query outside one
raises instead of finding a connection of its own.

The owner's engine is what Piccolo's migration commands use (`piccolo_conf.py`);
`alpaca-chat migrate` hands it the owner's connection the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.querystring import QueryString

Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy


class OutsideUnitOfWork(RuntimeError):
    """A table query ran with no unit of work: it has no identity to run as."""


class NestedUnitOfWork(RuntimeError):
    """A unit of work was opened inside another: it would act for two identities at once."""


class _ConnectsOnDemand(PostgresEngine):
    """A PostgresEngine that opens no connection when it is built.

    Piccolo's engine asks the server for its version as soon as it is
    constructed; ours are built at import and by start-up code before the
    database may be up (the embedded server starts later), and the servers we
    run on are PostgreSQL 13 or newer by requirement.
    """

    async def check_version(self) -> None:
        return None


class TableEngine(_ConnectsOnDemand):
    """Runs every query on the connection of the unit of work in progress, never elsewhere."""

    def __init__(self) -> None:
        super().__init__(config={}, extensions=())

    def _require_unit_of_work(self) -> None:
        if self.current_transaction.get() is None:
            raise OutsideUnitOfWork(
                "a table query ran outside Database.tenant(), anonymous() or as_operator()"
            )

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        self._require_unit_of_work()
        return await super().run_querystring(querystring, in_pool=in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        self._require_unit_of_work()
        return await super().run_ddl(ddl, in_pool=in_pool)

    async def get_new_connection(self) -> asyncpg.Connection:
        raise OutsideUnitOfWork("the table engine has no connection of its own")


TABLE_ENGINE = TableEngine()


class _UnitOfWork(PostgresTransaction):
    """Piccolo's view of one of our transactions: querysets run on its connection.

    `allow_nested=False` makes Piccolo refuse a second unit of work while this
    one is current (in this task and any task started from it), so a nested
    scope never silently joins another tenant's transaction.
    """

    def __init__(self, engine: PostgresEngine, connection: Connection) -> None:
        super().__init__(engine, allow_nested=False)
        self.connection = connection


@contextmanager
def running_on(engine: PostgresEngine, connection: Connection) -> Iterator[None]:
    """Make `connection` (already inside its transaction) the one `engine`'s queries use.

    Refuses to nest: inside one unit of work (in this task, or in a task started
    from it) another could only run as someone else or beside this transaction.
    """
    if engine.transaction_exists():
        raise NestedUnitOfWork("a unit of work is already in progress in this task")
    token = engine.current_transaction.set(_UnitOfWork(engine, connection))
    try:
        yield
    finally:
        engine.current_transaction.reset(token)


class OwnerEngine(_ConnectsOnDemand):
    """The owner's engine for Piccolo's migration commands, addressed by DATABASE_URL."""

    def __init__(self, dsn: str | None) -> None:
        super().__init__(config={"dsn": dsn} if dsn else {}, extensions=())
        self._dsn = dsn

    async def get_new_connection(self) -> asyncpg.Connection:
        if self._dsn is None:
            raise RuntimeError(
                "set DATABASE_URL to run Piccolo's commands; "
                "the embedded database migrates with `alpaca-chat migrate`"
            )
        return await asyncpg.connect(self._dsn)


def owner_engine(environ: Mapping[str, str]) -> OwnerEngine:
    return OwnerEngine(environ.get("DATABASE_URL") or None)
