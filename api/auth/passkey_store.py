"""Passkey rows and passkey challenges in PostgreSQL (KEY-01..03).

A signed-in person's passkeys and challenges live in RLS tables read in their own
tenant scope. Signing in happens before anyone is known, so its two lookups go
through narrow SECURITY DEFINER functions: one keeps the anonymous sign-in
challenges, one finds a credential's owner, key and count by the credential id.

Challenges are 32 random bytes (an approval's derived from what it approves and
32 random bytes), spent by deleting them, and valid for CHALLENGE_LIFETIME: each
works once, for a few minutes, and a replayed answer finds nothing to spend.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg

from api.auth.ceremonies import StoredKey
from api.db import Database

CHALLENGE_LIFETIME = timedelta(minutes=5)
CHALLENGE_BYTES = 32


class Purpose(StrEnum):
    REGISTER = "REGISTER"
    APPROVE = "APPROVE"


@dataclass(frozen=True)
class PasskeyInfo:
    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class FoundKey:
    """A passkey found by its credential id, with its owner."""

    passkey_id: UUID
    user_id: UUID
    public_key: bytes
    sign_count: int


@dataclass(frozen=True)
class SpentChallenge:
    subject: bytes | None
    expired: bool


def new_challenge() -> bytes:
    return secrets.token_bytes(CHALLENGE_BYTES)


async def store_challenge(
    conn: asyncpg.Connection,
    user_id: UUID,
    purpose: Purpose,
    challenge: bytes,
    subject: bytes | None = None,
) -> None:
    # Spent or expired challenges of this person go on the way: the table stays small.
    await conn.execute(
        "delete from app.passkey_challenges where owner_id = $1 and expires_at <= now()", user_id
    )
    await conn.execute(
        "insert into app.passkey_challenges (owner_id, purpose, challenge, subject, expires_at)"
        " values ($1, $2, $3, $4, now() + $5::interval)",
        user_id,
        purpose.value,
        challenge,
        subject,
        CHALLENGE_LIFETIME,
    )


async def spend_challenge(
    conn: asyncpg.Connection, user_id: UUID, purpose: Purpose, challenge: bytes
) -> SpentChallenge | None:
    """This person's challenge, deleted: it can never be spent again. None if there was none
    (never issued, or already spent); an expired one is spent and says so."""
    row = await conn.fetchrow(
        "delete from app.passkey_challenges where owner_id = $1 and purpose = $2"
        " and challenge = $3 returning subject, expires_at <= now() as expired",
        user_id,
        purpose.value,
        challenge,
    )
    return None if row is None else SpentChallenge(row["subject"], row["expired"])


async def store_sign_in_challenge(database: Database, challenge: bytes) -> None:
    async with database.anonymous() as conn:
        await conn.execute(
            "select app.passkey_sign_in_challenge($1, $2::interval)", challenge, CHALLENGE_LIFETIME
        )


async def spend_sign_in_challenge(database: Database, challenge: bytes) -> bool:
    async with database.anonymous() as conn:
        spent = await conn.fetchval("select app.take_passkey_sign_in_challenge($1)", challenge)
    return spent is True


async def find_credential(database: Database, credential_id: bytes) -> FoundKey | None:
    """Any user's passkey by credential id: the sign-in lookup, before anyone is known."""
    async with database.anonymous() as conn:
        row = await conn.fetchrow(
            "select passkey_id, user_id, public_key, sign_count from app.passkey_lookup($1)",
            credential_id,
        )
    if row is None:
        return None
    return FoundKey(row["passkey_id"], row["user_id"], row["public_key"], row["sign_count"])


async def own_credential(
    conn: asyncpg.Connection, user_id: UUID, credential_id: bytes
) -> FoundKey | None:
    """One of this person's passkeys by credential id (RLS shows no one else's)."""
    row = await conn.fetchrow(
        "select id, public_key, sign_count from app.passkeys"
        " where owner_id = $1 and credential_id = $2",
        user_id,
        credential_id,
    )
    if row is None:
        return None
    return FoundKey(row["id"], user_id, row["public_key"], row["sign_count"])


async def record_use(conn: asyncpg.Connection, passkey_id: UUID, sign_count: int) -> bool:
    """Store the new count and the time of use; False if another use got there first with
    the same or a higher count (two answers racing: only the first counts)."""
    status = await conn.execute(
        "update app.passkeys set sign_count = $2, last_used_at = now()"
        " where id = $1 and (sign_count < $2 or (sign_count = 0 and $2 = 0))",
        passkey_id,
        sign_count,
    )
    return bool(status == "UPDATE 1")


async def keys_of(conn: asyncpg.Connection, user_id: UUID) -> list[StoredKey]:
    rows = await conn.fetch(
        "select credential_id, public_key, sign_count, transports from app.passkeys"
        " where owner_id = $1 order by created_at",
        user_id,
    )
    return [
        StoredKey(
            r["credential_id"],
            r["public_key"],
            r["sign_count"],
            tuple(json.loads(r["transports"])),
        )
        for r in rows
    ]


async def insert(conn: asyncpg.Connection, user_id: UUID, key: StoredKey, name: str) -> PasskeyInfo:
    row = await conn.fetchrow(
        "insert into app.passkeys (owner_id, credential_id, public_key, sign_count, transports,"
        " name) values ($1, $2, $3, $4, $5::jsonb, $6)"
        " returning id, name, created_at, last_used_at",
        user_id,
        key.credential_id,
        key.public_key,
        key.sign_count,
        json.dumps(list(key.transports)),
        name,
    )
    return _info(row)


async def list_of(conn: asyncpg.Connection, user_id: UUID) -> list[PasskeyInfo]:
    rows = await conn.fetch(
        "select id, name, created_at, last_used_at from app.passkeys where owner_id = $1"
        " order by created_at",
        user_id,
    )
    return [_info(r) for r in rows]


async def count_of(conn: asyncpg.Connection, user_id: UUID) -> int:
    count: int = await conn.fetchval(
        "select count(*) from app.passkeys where owner_id = $1", user_id
    )
    return count


async def delete(conn: asyncpg.Connection, user_id: UUID, passkey_id: UUID) -> PasskeyInfo | None:
    row = await conn.fetchrow(
        "delete from app.passkeys where id = $1 and owner_id = $2"
        " returning id, name, created_at, last_used_at",
        passkey_id,
        user_id,
    )
    return None if row is None else _info(row)


def _info(row: asyncpg.Record) -> PasskeyInfo:
    return PasskeyInfo(row["id"], row["name"], row["created_at"], row["last_used_at"])
