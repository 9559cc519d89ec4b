"""Database start-up: the embedded server or DATABASE_URL, migrations, the runtime pool."""

from __future__ import annotations

import asyncpg

from api.config import Settings
from api.db.database import RUNTIME_ROLE, Database, with_user
from api.db.embedded import DATABASE_NAME, EmbeddedPostgres
from api.db.migrations import migrate

__all__ = ["Database", "open_database", "start_database"]


async def _ensure_database(server: EmbeddedPostgres) -> None:
    conn = await asyncpg.connect(server.dsn("postgres"))
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", DATABASE_NAME)
        if not exists:
            await conn.execute(f'create database "{DATABASE_NAME}"')
    finally:
        await conn.close()


async def start_database(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    """Start (or reuse) the database, untouched: the owner's DSN, and the embedded server."""
    if settings.embedded:
        server = EmbeddedPostgres(settings.home)
        await _ensure_database(server)
        return server.dsn(), server
    return settings.database_url, None  # type: ignore[return-value]


async def open_database(settings: Settings) -> tuple[Database, EmbeddedPostgres | None]:
    """Start (or reuse) the database and migrate it. The runtime pool is not connected:
    serving connects it (`Database.connect`); operator commands need only the owner."""
    owner_dsn, server = await start_database(settings)
    await migrate(owner_dsn)
    if server is not None:  # the embedded server trusts its local users
        runtime_dsn: str | None = with_user(owner_dsn, RUNTIME_ROLE)
    else:
        runtime_dsn = settings.runtime_database_url
    return Database(owner_dsn, runtime_dsn), server
