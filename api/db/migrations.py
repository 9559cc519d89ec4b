"""Applies the `alpaca_chat` Piccolo app's migrations (piccolo_migrations/), both ways.

Piccolo's migration commands run everything on the engine `piccolo_conf.py`
names, and join a transaction already current on it. So `migrate` opens one
transaction as the owner, takes an advisory lock as its first statement (two
servers starting at once: the second waits, then finds nothing to do), makes
that transaction the engine's current one, and runs Piccolo's own forwards or
backwards command inside it: the migrations and Piccolo's record of them (its
`migration` table) commit together or not at all (OPS-02).

Piccolo reports progress with print(); it is logged instead, so commands
whose stdout is their output (`alpaca-chat invite`) stay clean. The capture
is inside the lock: two calls in one process on one database never overlap it.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, redirect_stdout

import asyncpg
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.check import CheckMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import ENVIRONMENT_VARIABLE
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from api.db.engine import running_on
from api.db.piccolo_app import APP_NAME

log = logging.getLogger(__name__)

# Piccolo's commands import their configuration by module name (PICCOLO_CONF).
os.environ.setdefault(ENVIRONMENT_VARIABLE, "api.db.piccolo_conf")

_LOCK_KEY = 0x616C7061  # "alpa": any constant shared by every instance

# Installs migrated before Piccolo ran the migrations recorded them here, by name.
_PREVIOUS_LEDGER = "public.alpaca_chat_migrations"
_PREVIOUS_NAMES = {
    "0001_tenancy": "2026-11-25T18:40:49:000000",
    "0002_definer_functions": "2026-11-25T18:50:22:000000",
    "0003_chat_message_links": "2026-11-25T19:05:46:000000",
}


class MigrationFailed(RuntimeError):
    pass


def _engine() -> PostgresEngine:
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        raise MigrationFailed("piccolo_conf.DB must be a PostgresEngine")
    return engine


def sql_script(sql: str) -> Callable[[], Awaitable[None]]:
    """A MigrationManager step (`add_raw`) that runs `sql`, several statements, as one script.

    Piccolo's own raw queries are prepared statements, which hold one statement
    each; asyncpg's `execute` without arguments sends a whole script. It runs on
    the migration's transaction, which Piccolo's MigrationManager opened (or
    joined) on the same engine.
    """

    async def run() -> None:
        async with _engine().transaction() as transaction:
            await transaction.connection.execute(_OPEN_SCHEMA)
            await transaction.connection.execute(sql)
            await transaction.connection.execute(_CLOSE_SCHEMA)

    return run


# `alter function ... owner to <definer role>` needs that role to hold CREATE on the schema,
# unless the owner running it is a superuser; a managed PostgreSQL's owner is not (OPS-02).
# CREATE is granted only inside the migration's own transaction and revoked again before it
# commits, so no other session ever sees it.
_OPEN_SCHEMA = """do $$ begin
  if to_regnamespace('app') is not null then grant create on schema app to public; end if;
end $$"""
_CLOSE_SCHEMA = """do $$ begin
  if to_regnamespace('app') is not null then revoke create on schema app from public; end if;
end $$"""


@asynccontextmanager
async def _as_owner(owner_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """One transaction as the owner, serialised across instances, that Piccolo runs on."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        async with conn.transaction():
            await conn.execute("select pg_advisory_xact_lock($1)", _LOCK_KEY)
            with running_on(_engine(), conn):
                yield conn
    finally:
        await conn.close()


async def _adopt_previous_ledger(conn: asyncpg.Connection) -> None:
    """Record what the previous runner applied as Piccolo migrations (without running
    them again), then drop its ledger: an existing install upgrades in place."""
    if not await conn.fetchval("select to_regclass($1) is not null", _PREVIOUS_LEDGER):
        return
    await BaseMigrationManager().create_migration_table()
    ran = set(await Migration.get_migrations_which_ran(app_name=APP_NAME))
    previous = await conn.fetch(
        f"select name, applied_at from {_PREVIOUS_LEDGER} order by name"  # noqa: S608 (a constant)
    )
    for row in previous:
        migration_id = _PREVIOUS_NAMES.get(row["name"])
        if migration_id is None:
            raise MigrationFailed(f"unknown migration {row['name']} in {_PREVIOUS_LEDGER}")
        if migration_id not in ran:
            # Piccolo's ran_on is local time without a zone; its order is the order of undoing
            ran_on = row["applied_at"].astimezone().replace(tzinfo=None)
            await Migration.insert(
                Migration(name=migration_id, app_name=APP_NAME, ran_on=ran_on)
            ).run()
            log.info("recorded migration %s (applied as %s)", migration_id, row["name"])
    await conn.execute(f"drop table {_PREVIOUS_LEDGER}")


def _log_progress(output: io.StringIO) -> None:
    for line in output.getvalue().splitlines():
        if line.strip():
            log.debug("piccolo: %s", line.strip())


async def migrate(owner_dsn: str) -> list[str]:
    """Apply every pending migration; return the IDs applied."""
    async with _as_owner(owner_dsn) as conn:
        await _adopt_previous_ledger(conn)
        statuses = await CheckMigrationManager(app_name=APP_NAME).get_migration_statuses()
        todo = [status for status in statuses if not status.has_ran]
        if todo:
            output = io.StringIO()
            with redirect_stdout(output):
                result = await run_forwards(app_name=APP_NAME)
            _log_progress(output)
            if not result.success:
                raise MigrationFailed(result.message or "migrations failed")
    for status in todo:
        log.info("applied migration %s (%s)", status.migration_id, status.description)
    return [status.migration_id for status in todo]


async def rollback(owner_dsn: str, steps: int = 1) -> list[str]:
    """Undo the newest `steps` migrations; return the IDs undone, newest first."""
    async with _as_owner(owner_dsn) as conn:
        await _adopt_previous_ledger(conn)
        ran = await Migration.get_migrations_which_ran(app_name=APP_NAME)
        undo = ran[-steps:] if steps > 0 else []
        if undo:
            output = io.StringIO()
            with redirect_stdout(output):
                result = await run_backwards(
                    app_name=APP_NAME, migration_id=undo[0], auto_agree=True
                )
            _log_progress(output)
            if not result.success:
                raise MigrationFailed(result.message or "rollback failed")
    undone = list(reversed(undo))
    for migration_id in undone:
        log.info("rolled back migration %s", migration_id)
    return undone
