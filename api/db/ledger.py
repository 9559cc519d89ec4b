"""Which migrations this code knows, and which of them a database has not run yet.

Piccolo records every migration it ran in `public.migration` (name = the
migration's ID, app_name = our app). Readiness (`/readyz`) asks whether a
database is behind the code; a restore asks whether a backup is ahead of it
(api/db/backup.py). Both compare IDs against the same list: the migration
modules Piccolo itself would run.
"""

from __future__ import annotations

from functools import cache

import asyncpg
from piccolo.apps.migrations.commands.base import BaseMigrationManager

from api.db.piccolo_app import APP_CONFIG, APP_NAME

LEDGER = "public.migration"


@cache
def known_migrations() -> frozenset[str]:
    """The IDs of the migrations in `piccolo_migrations/` (read once per process)."""
    folder = str(APP_CONFIG.resolved_migrations_folder_path)
    return frozenset(BaseMigrationManager().get_migration_modules(folder))


async def pending_migrations(owner_dsn: str) -> list[str]:
    """The known migrations the database at `owner_dsn` has not run, in ID order."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        ran: set[str] = set()
        if await conn.fetchval("select to_regclass($1) is not null", LEDGER):
            query = f"select name from {LEDGER} where app_name = $1"  # noqa: S608 (a constant)
            rows = await conn.fetch(query, APP_NAME)
            ran = {row["name"] for row in rows}
    finally:
        await conn.close()
    return sorted(known_migrations() - ran)
