"""User rows: sign-up through `app.sign_up`, the sign-in lookup, reading one's own user.

Emails are normalised (trimmed, lower case) before they reach the database,
which checks the same normal form and uniqueness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from api.auth.tokens import looks_like_secret, secret_hash
from api.db import Database
from api.errors import BadUserInput
from api.text import refuse_control_characters

MAX_EMAIL_LENGTH = 254
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


@dataclass(frozen=True)
class UserInfo:
    id: UUID
    email: str
    created_at: datetime
    is_admin: bool  # the install's first user (ADM-01)


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def check_email(email: str) -> None:
    refuse_control_characters(email, field="email")
    if len(email) > MAX_EMAIL_LENGTH or _EMAIL_SHAPE.fullmatch(email) is None:
        raise BadUserInput("Enter a valid email address", field="email")


def _invite_refused() -> BadUserInput:
    return BadUserInput(
        "This invite code is not valid: it may be used or expired, ask for a new one",
        field="inviteCode",
    )


async def insert_user(
    database: Database, email: str, password_hash: str, invite_code: str | None
) -> UUID:
    """Create the user, spending the invite unless this is the first user."""
    invite_hash = (
        secret_hash(invite_code) if invite_code and looks_like_secret(invite_code) else None
    )
    try:
        async with database.anonymous() as conn:
            user_id: UUID = await conn.fetchval(
                "select app.sign_up($1, $2, $3)", email, password_hash, invite_hash
            )
            return user_id
    except asyncpg.RaiseError as error:
        if error.hint == "invite":
            raise _invite_refused() from None
        raise
    except asyncpg.UniqueViolationError:
        # A taken email answers exactly as a bad invite does (and the invite is not
        # spent): even an invite's holder learns nothing about who is registered.
        raise _invite_refused() from None


async def password_hash_of(database: Database, email: str) -> tuple[UUID, str] | None:
    async with database.anonymous() as conn:
        row = await conn.fetchrow("select user_id, password_hash from app.login_lookup($1)", email)
    return None if row is None else (row["user_id"], row["password_hash"])


async def get_user(database: Database, user_id: UUID) -> UserInfo | None:
    """The user's own row, unless an admin disabled them (ADM-01); RLS shows no other."""
    async with database.tenant(user_id) as conn:
        row = await conn.fetchrow(
            "select id, email, created_at, is_admin from app.users"
            " where id = $1 and disabled_at is null",
            user_id,
        )
    return None if row is None else UserInfo(**dict(row))
