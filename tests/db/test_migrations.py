"""OPS-02: Piccolo's migrations, applied by `alpaca-chat migrate`, both ways and exactly once.

Every test here starts from an empty database (no template) in the session cluster.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from api.db.migrations import migrate, rollback
from tests.fixtures.postgres import Cluster

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_RUNNER = ROOT / "tests" / "data" / "previous_runner"
IDS = [
    "2026-11-25T18:40:49:000000",
    "2026-11-25T18:50:22:000000",
    "2026-11-25T19:05:46:000000",
    "2026-12-01T10:00:00:000000",
    "2026-12-01T12:00:00:000000",
    "2026-12-01T13:00:00:000000",
    "2026-12-01T14:40:00:000000",
    "2026-12-01T16:00:00:000000",
    "2026-12-02T09:00:00:000000",
    "2026-12-04T09:00:00:000000",
    "2026-12-05T15:00:00:000000",
    "2026-12-06T09:00:00:000000",
]
APP_TABLES = {
    "users",
    "sessions",
    "invites",
    "broker_accounts",
    "chat_messages",
    "order_proposals",
    "order_audit",
    "account_limits",
    "guard_audit",
    "push_subscriptions",
    "notification_settings",
    "push_deliveries",
    "stream_marks",
    "passkeys",
    "passkey_challenges",
    "passkey_sign_in_challenges",
    "auth_attempts",
    "security_events",
}


@pytest.fixture
def empty_database(pg_cluster: Cluster) -> Iterator[str]:
    dsn = pg_cluster.create_database(template=None)
    yield dsn
    pg_cluster.drop_database(dsn)


async def _state(dsn: str) -> tuple[set[str], list[str]]:
    """The tables of the app schema, and the IDs in Piccolo's migration table."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = {
            r[0]
            for r in await conn.fetch(
                "select table_name from information_schema.tables where table_schema = 'app'"
            )
        }
        ran = []
        if await conn.fetchval("select to_regclass('public.migration') is not null"):
            rows = await conn.fetch(
                "select name from public.migration where app_name = 'alpaca_chat' order by ran_on"
            )
            ran = [r[0] for r in rows]
        return tables, ran
    finally:
        await conn.close()


def _piccolo(dsn: str, *args: str) -> str:
    """Piccolo's own command line, as someone who knows Piccolo runs it from the repository."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("piccolo")), "migrations", *args],
        cwd=ROOT,
        env={**os.environ, "PICCOLO_CONF": "piccolo_conf", "DATABASE_URL": dsn},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def test_forwards_then_backwards_through_every_migration(empty_database: str) -> None:
    """OPS-02: every migration applies, and each one's backwards step undoes it."""
    assert await migrate(empty_database) == IDS
    assert await _state(empty_database) == (APP_TABLES, IDS)
    assert await migrate(empty_database) == []
    for undone in reversed(IDS):
        assert await rollback(empty_database, 1) == [undone]
    tables, ran = await _state(empty_database)
    assert (tables, ran) == (set(), [])
    assert await migrate(empty_database) == IDS
    assert await rollback(empty_database, len(IDS)) == list(reversed(IDS))
    assert await migrate(empty_database) == IDS


async def test_two_servers_starting_at_once_migrate_once(empty_database: str) -> None:
    """OPS-02: the advisory lock lets one of two concurrent `migrate` calls apply everything."""
    first, second = await asyncio.gather(migrate(empty_database), migrate(empty_database))
    assert sorted([first, second]) == [[], IDS]
    assert await _state(empty_database) == (APP_TABLES, IDS)


async def _as_the_previous_runner(dsn: str) -> None:
    """What the SQL runner before Piccolo did: each up.sql in a transaction, by name."""
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("select rolsuper from pg_roles where rolname = current_user"):
            # it handed functions to definer roles that lack CREATE on the schema
            pytest.skip("the previous runner's installs had a superuser owner")
        await conn.execute(
            "create table public.alpaca_chat_migrations"
            " (name text primary key, applied_at timestamptz not null default now())"
        )
        for up in sorted(PREVIOUS_RUNNER.glob("*.up.sql")):
            async with conn.transaction():
                await conn.execute(up.read_text())
                await conn.execute(
                    "insert into public.alpaca_chat_migrations (name) values ($1)",
                    up.name.removesuffix(".up.sql"),
                )
        # the first user needs no invite
        await conn.execute("select app.sign_up('before@example.com', 'not-a-real-hash', null)")
    finally:
        await conn.close()


async def test_an_install_migrated_by_the_previous_runner_upgrades_in_place(
    empty_database: str,
) -> None:
    """OPS-02: nothing re-runs, nothing is lost, and Piccolo sees no pending migration."""
    await _as_the_previous_runner(empty_database)
    # the three migrations the previous runner knew do not run again; later ones run now
    assert await migrate(empty_database) == IDS[3:]
    conn = await asyncpg.connect(empty_database)
    try:
        assert await conn.fetchval("select email from app.users") == "before@example.com"
        assert not await conn.fetchval("select to_regclass('public.alpaca_chat_migrations')")
    finally:
        await conn.close()
    assert (await _state(empty_database))[1] == IDS
    report = await asyncio.to_thread(_piccolo, empty_database, "check")
    statuses = [line for line in report.splitlines() if line.startswith("alpaca_chat")]
    assert len(statuses) == len(IDS)
    assert all(line.rstrip().endswith("True") for line in statuses), report


async def test_piccolos_own_commands_migrate_a_fresh_database(empty_database: str) -> None:
    """OPS-02: `piccolo migrations forwards alpaca_chat` runs the same migrations."""
    await asyncio.to_thread(_piccolo, empty_database, "forwards", "alpaca_chat")
    assert await _state(empty_database) == (APP_TABLES, IDS)
    assert await migrate(empty_database) == []
