"""Invite codes (AUTH-01): one-time, 256-bit, expiring after a week, stored as hashes.

An invite is spent by `app.sign_up` in the transaction that creates the user,
so two people cannot both use one code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from uuid import UUID

from api.auth.tokens import new_secret, secret_hash
from api.db import Database

INVITE_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    expires_at: datetime

    def share_path(self) -> str:
        """What the PWA opens to sign up with this code."""
        return f"/?invite={quote(self.code)}"


async def create_invite(database: Database, user_id: UUID) -> IssuedInvite:
    code = new_secret()
    # SQL, naming only the columns the runtime role may insert (api/db/tables.py)
    async with database.tenant(user_id) as conn:
        expires_at = await conn.fetchval(
            "insert into app.invites (created_by, code_hash, expires_at)"
            " values ($1, $2, now() + $3::interval) returning expires_at",
            user_id,
            secret_hash(code),
            INVITE_LIFETIME,
        )
    return IssuedInvite(code, expires_at)


async def create_operator_invite(database: Database) -> IssuedInvite:
    """An invite made by whoever runs the server (`alpaca-chat invite`), created_by NULL."""
    code = new_secret()
    # the operator role may insert but not read invites, hence no RETURNING
    expires_at = datetime.now(UTC) + INVITE_LIFETIME
    async with database.as_operator() as conn:
        await conn.execute(
            "insert into app.invites (code_hash, expires_at) values ($1, $2)",
            secret_hash(code),
            expires_at,
        )
    return IssuedInvite(code, expires_at)
