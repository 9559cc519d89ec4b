"""The admin's directory (ADM-01): who has an account, disabling people, invites.

Everything here runs in the admin's own tenant scope and reaches other people's rows
only through the definer functions `app.directory_*`, which check that the caller
is an enabled admin and return directory columns only: an email, dates, a count of
accounts; never a key and nothing an account holds. Row-level security applies to
an admin as to anyone (docs/architecture.md#decision-1-the-database-enforces-tenancy).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import asyncpg

from api.db import Database
from api.errors import AppError, BadUserInput, Forbidden, NotFound
from api.realtime import SessionRevokedEvent, publish

MAX_DIRECTORY_ROWS = 500


@dataclass(frozen=True)
class DirectoryUser:
    id: UUID
    email: str
    created_at: datetime
    last_seen_at: datetime | None
    account_count: int
    is_admin: bool
    disabled_at: datetime | None


class InviteStatus(StrEnum):
    PENDING = "PENDING"
    USED = "USED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


@dataclass(frozen=True)
class DirectoryInvite:
    id: UUID
    created_by_email: str | None  # None: made by the operator (`alpaca-chat invite`)
    created_at: datetime
    expires_at: datetime
    used_by_email: str | None
    used_at: datetime | None
    status: InviteStatus


def _refusal(hint: str | None) -> AppError | None:
    """What a definer function's refusal (its exception hint) means to the caller."""
    match hint:
        case "forbidden":
            return Forbidden("Only the admin can do this", reason="admin")
        case "not_found":
            return NotFound()
        case "last_admin":
            return BadUserInput(
                "The last admin cannot be disabled: nobody would be left to run this server",
                field="id",
            )
        case "not_pending":
            return BadUserInput("This invite was already used, revoked or expired", field="id")
    return None


@asynccontextmanager
async def _as_admin(database: Database, admin_id: UUID) -> AsyncIterator[asyncpg.Connection]:
    """The caller's tenant scope; a definer function's refusal becomes its coded error."""
    try:
        async with database.tenant(admin_id) as conn:
            yield conn
    except asyncpg.RaiseError as error:
        refusal = _refusal(error.hint)
        if refusal is None:
            raise
        raise refusal from None


async def users(database: Database, admin_id: UUID, limit: int) -> list[DirectoryUser]:
    async with _as_admin(database, admin_id) as conn:
        rows = await conn.fetch("select * from app.directory_users($1)", limit)
    return [DirectoryUser(**dict(row)) for row in rows]


async def set_user_disabled(
    database: Database, admin_id: UUID, user_id: UUID, disabled: bool
) -> list[UUID]:
    """Disable (or enable) `user_id`; the sessions this revoked.

    Disabling revokes every session of the user in this transaction and announces
    each revocation in it, so every process closes those sessions' WebSockets and
    subscriptions once it commits (AUTH-03, api/auth/websockets.py).
    """
    async with _as_admin(database, admin_id) as conn:
        rows = await conn.fetch(
            "select session_id, user_id from app.directory_set_user_disabled($1, $2)",
            user_id,
            disabled,
        )
        for row in rows:
            await publish(conn, SessionRevokedEvent(row["session_id"], row["user_id"]))
    return [row["session_id"] for row in rows]


async def invites(database: Database, admin_id: UUID, limit: int) -> list[DirectoryInvite]:
    async with _as_admin(database, admin_id) as conn:
        rows = await conn.fetch("select * from app.directory_invites($1)", limit)
    return [DirectoryInvite(**{**dict(row), "status": InviteStatus(row["status"])}) for row in rows]


async def revoke_invite(database: Database, admin_id: UUID, invite_id: UUID) -> None:
    async with _as_admin(database, admin_id) as conn:
        await conn.execute("select app.directory_revoke_invite($1)", invite_id)
