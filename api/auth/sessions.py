"""Session rows: create, authenticate by token, revoke (AUTH-03).

Authentication is one call of the SECURITY DEFINER function
`app.session_user_id(token_hash)` per request, outside any transaction (one
round trip). It returns the user only while the session is unrevoked and
unexpired, so revocation and expiry take effect on the next request.
Revocation is also announced on the event bus, for open WebSockets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from api.auth.tokens import SessionToken, new_secret, secret_hash
from api.db import Database
from api.errors import Unauthenticated
from api.realtime import SessionRevokedEvent, publish

SESSION_LIFETIME = timedelta(days=30)
MAX_USER_AGENT = 200


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the user, and the session the token names."""

    user_id: UUID
    session_id: UUID  # claimed by the token; proven only by revoke_session
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


async def authenticate(database: Database, token: SessionToken) -> Principal | None:
    user_id = await database.pool.fetchval("select app.session_user_id($1)", token.hash)
    if user_id is None:
        return None
    return Principal(user_id, token.session_id, token.hash)


async def revoke_session(database: Database, principal: Principal) -> None:
    """Revoke the session that `principal`'s token belongs to.

    The session id comes from the token and could name another session of the
    same user; after the update, the token's own hash must no longer
    authenticate in the same transaction, or nothing is changed.
    """
    async with database.tenant(principal.user_id) as conn:
        await conn.execute(
            "update app.sessions set revoked_at = now() where id = $1 and revoked_at is null",
            principal.session_id,
        )
        still_valid = await conn.fetchval("select app.session_user_id($1)", principal.token_hash)
        if still_valid is not None:
            raise Unauthenticated("This session token is not valid")
        # delivered at commit to every process: they close the session's sockets
        await publish(conn, SessionRevokedEvent(principal.session_id, principal.user_id))
