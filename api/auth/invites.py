"""Invite codes (AUTH-01): one-time, 256-bit, expiring after a week, stored as hashes.

An invite is spent by `app.sign_up` in the transaction that creates the user,
so two people cannot both use one code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from uuid import UUID

import asyncpg

from api.auth.tokens import new_secret, secret_hash
from api.db import Database
from api.errors import RateLimited

INVITE_LIFETIME = timedelta(days=7)
# Per user (README, "Limits"): invites are how strangers get in, so nobody mints them
# by the thousand. Counted in PostgreSQL, so the limits hold across processes.
MAX_UNUSED_INVITES = 20
MAX_INVITES_PER_DAY = 50
# pg_advisory_xact_lock(class, key): this class serialises one user's invite creation
_INVITE_LOCK_CLASS = 0x1A17E


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    expires_at: datetime

    def share_path(self) -> str:
        """What the PWA opens to sign up with this code."""
        return f"/?invite={quote(self.code)}"


async def check_invite_allowance(conn: asyncpg.Connection, user_id: UUID) -> None:
    """RATE_LIMITED when `user_id` already holds `MAX_UNUSED_INVITES` unused, unexpired
    invites or made `MAX_INVITES_PER_DAY` in the last day.

    Runs in the tenant transaction that inserts the invite (RLS shows the user's own
    invites only); the advisory lock makes two concurrent requests count one after the
    other, so neither slips past the limit.
    """
    await conn.execute(
        "select pg_advisory_xact_lock($1, hashtext($2))", _INVITE_LOCK_CLASS, str(user_id)
    )
    row = await conn.fetchrow(
        "select count(*) filter (where used_at is null and expires_at > now()) as unused,"
        " min(expires_at) filter (where used_at is null and expires_at > now()) as next_expiry,"
        " count(*) filter (where created_at > now() - interval '1 day') as today,"
        " min(created_at) filter (where created_at > now() - interval '1 day') as first_today,"
        " now() as now"
        " from app.invites where created_by = $1",
        user_id,
    )
    if row["today"] >= MAX_INVITES_PER_DAY:
        wait = row["first_today"] + timedelta(days=1) - row["now"]
        raise RateLimited(
            wait.total_seconds(), f"At most {MAX_INVITES_PER_DAY} invites a day: try again later"
        )
    if row["unused"] >= MAX_UNUSED_INVITES:
        wait = row["next_expiry"] - row["now"]
        raise RateLimited(
            wait.total_seconds(),
            f"You have {MAX_UNUSED_INVITES} unused invites: share those first, "
            "or wait until one expires",
        )


async def create_invite(database: Database, user_id: UUID) -> IssuedInvite:
    code = new_secret()
    # SQL, naming only the columns the runtime role may insert (api/db/tables.py)
    async with database.tenant(user_id) as conn:
        await check_invite_allowance(conn, user_id)
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
