"""Applies the SQL migrations in `piccolo_migrations/`, forwards or backwards.

Each migration runs in its own transaction as the owner, recorded in
`public.alpaca_chat_migrations`; an advisory lock keeps two starting servers
from migrating at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

import asyncpg

log = logging.getLogger(__name__)

_LOCK_KEY = 0x616C7061  # "alpa": any constant shared by every instance
_LEDGER = """
create table if not exists public.alpaca_chat_migrations (
  name text primary key,
  applied_at timestamptz not null default now()
)
"""


@dataclass(frozen=True)
class Migration:
    name: str
    forwards: str
    backwards: str


def available() -> list[Migration]:
    folder = resources.files("piccolo_migrations")
    names = sorted(
        entry.name.removesuffix(".up.sql")
        for entry in folder.iterdir()
        if entry.name.endswith(".up.sql")
    )
    return [
        Migration(
            name,
            folder.joinpath(f"{name}.up.sql").read_text(),
            folder.joinpath(f"{name}.down.sql").read_text(),
        )
        for name in names
    ]


async def _applied(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch("select name from public.alpaca_chat_migrations order by name")
    return [r["name"] for r in rows]


async def migrate(owner_dsn: str) -> list[str]:
    """Apply every pending migration; return the names applied."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        await conn.execute("select pg_advisory_lock($1)", _LOCK_KEY)
        await conn.execute(_LEDGER)
        done = set(await _applied(conn))
        applied = []
        for migration in available():
            if migration.name in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.forwards)
                await conn.execute(
                    "insert into public.alpaca_chat_migrations (name) values ($1)", migration.name
                )
            log.info("applied migration %s", migration.name)
            applied.append(migration.name)
        return applied
    finally:
        await conn.close()


async def rollback(owner_dsn: str, steps: int = 1) -> list[str]:
    """Undo the newest `steps` migrations; return the names undone."""
    by_name = {m.name: m for m in available()}
    conn = await asyncpg.connect(owner_dsn)
    try:
        await conn.execute("select pg_advisory_lock($1)", _LOCK_KEY)
        await conn.execute(_LEDGER)
        undone = []
        for name in reversed((await _applied(conn))[-steps:] if steps else []):
            async with conn.transaction():
                await conn.execute(by_name[name].backwards)
                await conn.execute(
                    "delete from public.alpaca_chat_migrations where name = $1", name
                )
            log.info("rolled back migration %s", name)
            undone.append(name)
        return undone
    finally:
        await conn.close()
