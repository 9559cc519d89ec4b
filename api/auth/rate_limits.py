"""Sign-in and sign-up limits, counted in PostgreSQL for every instance at once (AUTH-02).

Per email (guessing one person's password) and per client address (spraying
many emails). The counters live in `app.auth_attempts`, so N server
instances still allow an attacker the attempts of one. Each attempt is one
upsert, in a fixed window that starts at a key's first attempt; an attempt
over the limit is refused with the seconds left of the window
(`extensions.retryAfter`). A sign-in is counted before its password is
checked, so a burst of parallel guesses cannot all slip in before the first
is counted; a sign-in that succeeds is taken back, so only failures stay.

Keys reach the database only as SHA-256 hashes of the limit's name and the
key: no email or address is stored there in clear. Nobody is known yet when
these run, so only the SECURITY DEFINER functions of the migration
`2026-12-01T16:00:00` touch the table.

Every sign-in path (password, passkey) calls `sign_in_attempt` first and
`signed_in` once it succeeded; a path without an email passes none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from api.db import Database
from api.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    bucket: str  # the counter's name in app.auth_attempts
    events: int
    seconds: int


# Documented in README ("Limits").
SIGN_IN_FAILURES_PER_EMAIL = Limit("sign_in_email", events=5, seconds=300)
SIGN_IN_FAILURES_PER_ADDRESS = Limit("sign_in_address", events=30, seconds=300)
SIGN_UPS_PER_EMAIL = Limit("sign_up_email", events=5, seconds=600)
SIGN_UPS_PER_ADDRESS = Limit("sign_up_address", events=20, seconds=600)


def _key_hash(limit: Limit, key: str) -> bytes:
    return hashlib.sha256(f"{limit.bucket}\0{key}".encode()).digest()


class AuthLimits:
    """The limits sign-in and sign-up consult; one round trip per call."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def _count(self, counted: list[tuple[Limit, str]]) -> None:
        """Count one attempt for every key; RateLimited if any is now over its limit."""
        wait = await self._database.pool.fetchval(
            "select max(w.retry_after) filter (where w.counted > k.events)"
            " from unnest($1::text[], $2::bytea[], $3::int[], $4::int[])"
            "   as k(bucket, key_hash, events, seconds)"
            " cross join lateral app.count_attempt(k.bucket, k.key_hash, k.seconds) as w",
            [limit.bucket for limit, _ in counted],
            [_key_hash(limit, key) for limit, key in counted],
            [limit.events for limit, _ in counted],
            [limit.seconds for limit, _ in counted],
        )
        if wait is not None:
            raise RateLimited(retry_after=wait)

    @staticmethod
    def _sign_in_keys(client: str, email: str | None) -> list[tuple[Limit, str]]:
        counted = [(SIGN_IN_FAILURES_PER_ADDRESS, client)]
        if email is not None:
            counted.append((SIGN_IN_FAILURES_PER_EMAIL, email))
        return counted

    async def sign_in_attempt(self, client: str, email: str | None = None) -> None:
        """Before anything is checked: counted as a failure until `signed_in` says otherwise."""
        await self._count(self._sign_in_keys(client, email))

    async def signed_in(self, client: str, email: str | None = None) -> None:
        await self._database.pool.execute(
            "select app.uncount_attempt(h) from unnest($1::bytea[]) as h",
            [_key_hash(limit, key) for limit, key in self._sign_in_keys(client, email)],
        )

    async def sign_up_attempt(self, client: str, email: str) -> None:
        """Once the input is valid: every sign-up counts, successful or not."""
        await self._count([(SIGN_UPS_PER_ADDRESS, client), (SIGN_UPS_PER_EMAIL, email)])
