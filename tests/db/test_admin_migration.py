"""ADM-01: an install that had users before admins existed makes its oldest user the admin.

Starts from an empty database in the session cluster, migrated up to just before the
migration that brings the admin, as an existing install would be.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest

from api.db.migrations import migrate, rollback
from tests.fixtures.postgres import Cluster

ADMIN_MIGRATION = "2026-12-05T15:00:00:000000"


@pytest.fixture
def empty_database(pg_cluster: Cluster) -> Iterator[str]:
    dsn = pg_cluster.create_database(template=None)
    yield dsn
    pg_cluster.drop_database(dsn)


async def test_adm01_the_oldest_user_becomes_the_admin_on_upgrade(empty_database: str) -> None:
    applied = await migrate(empty_database)
    # undo the admin migration and whatever came after it: the install as it was before
    await rollback(empty_database, len(applied) - applied.index(ADMIN_MIGRATION))
    conn = await asyncpg.connect(empty_database)
    try:
        # the newer user is inserted first: age, not insertion order, decides
        await conn.execute(
            "insert into app.users (email, password_hash, created_at) values"
            " ('newer@example.com', 'not-a-real-hash', now() - interval '1 day'),"
            " ('oldest@example.com', 'not-a-real-hash', now() - interval '30 days')"
        )
        assert ADMIN_MIGRATION in await migrate(empty_database)
        admins = await conn.fetch("select email, is_admin from app.users order by email")
        assert [(r["email"], r["is_admin"]) for r in admins] == [
            ("newer@example.com", False),
            ("oldest@example.com", True),
        ]
    finally:
        await conn.close()
