"""Whether the person behind a request signed in a moment ago (RISK-03).

Loosening a live account's limits, resuming it or loosening its brakes at the
broker asks the person to prove themselves again: the session their token
opens must have begun within `FRESH_SIGN_IN`. The start is read by token hash
(`app.session_started_at`), never by the session id the token claims, so an
old token cannot borrow a fresher session's age. A passkey approving the very
change is the other way to prove it (api/auth/passkeys.py, `require_step_up`).
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from api.auth.sessions import Principal
from api.errors import Forbidden

FRESH_SIGN_IN = timedelta(minutes=5)
FRESH_SIGN_IN_REQUIRED = "FRESH_SIGN_IN_REQUIRED"


async def signed_in_recently(conn: asyncpg.Connection, principal: Principal) -> bool:
    """On the connection of the principal's own tenant transaction."""
    fresh = await conn.fetchval(
        "select app.session_started_at($1) > now() - $2::interval",
        principal.token_hash,
        FRESH_SIGN_IN,
    )
    return fresh is True


def fresh_sign_in_required(what: str) -> Forbidden:
    minutes = int(FRESH_SIGN_IN.total_seconds() // 60)
    return Forbidden(
        f"Sign in again to {what} (within {minutes} minutes of signing in)",
        reason=FRESH_SIGN_IN_REQUIRED,
    )


async def require_fresh_sign_in(conn: asyncpg.Connection, principal: Principal, what: str) -> None:
    if not await signed_in_recently(conn, principal):
        raise fresh_sign_in_required(f"{what} on a live account")
