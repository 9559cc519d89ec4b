"""Database start-up: the embedded server or DATABASE_URL, migrations, the runtime pool."""

from __future__ import annotations

import asyncpg

from api.config import Settings
from api.db.database import Database
from api.db.embedded import DATABASE_NAME, EmbeddedPostgres
from api.db.migrations import migrate

__all__ = ["Database", "open_database"]


async def _ensure_database(server: EmbeddedPostgres) -> None:
    conn = await asyncpg.connect(server.dsn("postgres"))
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", DATABASE_NAME)
        if not exists:
            await conn.execute(f'create database "{DATABASE_NAME}"')
    finally:
        await conn.close()


async def open_database(settings: Settings) -> tuple[Database, EmbeddedPostgres | None]:
    """Start (or reuse) the database, migrate it, and connect the runtime pool."""
    server = None
    if settings.embedded:
        server = EmbeddedPostgres(settings.home)
        await _ensure_database(server)
        owner_dsn = server.dsn()
    else:
        owner_dsn = settings.database_url  # type: ignore[assignment]
    await migrate(owner_dsn)
    database = Database(owner_dsn, login_as_runtime_role=server is not None)
    await database.connect()
    return database, server
