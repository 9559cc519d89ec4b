"""Session rows: create, authenticate by token, revoke (AUTH-03).

Authentication is one call of the SECURITY DEFINER function
`app.session_of(token_hash)`, outside any transaction (one round trip). It
answers the session the secret belongs to, its user and its expiry, only while
`app.session_user_id` says the session still authenticates. The session is the
database's answer, never the token's claim: a token naming another session is
refused, and sign-out, revocation events and open WebSockets all key on the
true session. Each process remembers the answer for a few seconds
(api/auth/session_cache.py), which the revocation announced on the event bus
ends in every process at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from api.auth.tokens import SessionToken, new_secret, secret_hash
from api.db import Database
from api.realtime import SessionRevokedEvent, publish

SESSION_LIFETIME = timedelta(days=30)
MAX_USER_AGENT = 200


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the user, and the session the token's secret belongs to."""

    user_id: UUID
    session_id: UUID  # as the database says, never as the token claims
    token_hash: bytes


@dataclass(frozen=True)
class NewSession:
    token: SessionToken
    expires_at: datetime


async def create_session(database: Database, user_id: UUID, user_agent: str | None) -> NewSession:
    """Insert a session for `user_id`, in that user's tenant scope."""
    secret = new_secret()
    async with database.tenant(user_id) as conn:
        row = await conn.fetchrow(
            "insert into app.sessions (user_id, token_hash, expires_at, user_agent)"
            " values ($1, $2, now() + $3::interval, $4) returning id, expires_at",
            user_id,
            secret_hash(secret),
            SESSION_LIFETIME,
            (user_agent or "")[:MAX_USER_AGENT] or None,
        )
    return NewSession(SessionToken(row["id"], secret), row["expires_at"])


async def authenticate(
    database: Database, token: SessionToken
) -> tuple[Principal, datetime] | None:
    """The principal of a token whose secret and session id both match a live session,
    and when that session expires."""
    row = await database.pool.fetchrow(
        "select session_id, user_id, expires_at from app.session_of($1)", token.hash
    )
    if row is None or row["session_id"] != token.session_id:
        return None
    return Principal(row["user_id"], row["session_id"], token.hash), row["expires_at"]


async def revoke_session(database: Database, principal: Principal) -> None:
    """Revoke the session `principal` authenticated with (its id is the database's own)."""
    async with database.tenant(principal.user_id) as conn:
        await conn.execute(
            "update app.sessions set revoked_at = now() where id = $1 and revoked_at is null",
            principal.session_id,
        )
        # delivered at commit to every process: they close the session's sockets
        await publish(conn, SessionRevokedEvent(principal.session_id, principal.user_id))
