"""Opaque random secrets (session tokens, invite codes) and the hashes we store instead.

Only SHA-256 hashes reach the database (AUTH-03): a database dump hands out no
working session or invite. The secrets carry 256 bits, so a fast hash is
enough; there is nothing to brute-force.

A session token reads `<session id hex>.<secret>`. The secret alone finds the
session (the runtime role may not select `token_hash`; a definer function
answers for it), and authentication refuses a token whose id is not that
session's (api.auth.sessions.authenticate): the id is checked, never trusted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from uuid import UUID

SECRET_BYTES = 32  # 256 bits, urlsafe base64 without padding: 43 characters
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_SESSION_TOKEN_SHAPE = re.compile(r"([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def looks_like_secret(value: str) -> bool:
    return _SECRET_SHAPE.fullmatch(value) is not None


@dataclass(frozen=True)
class SessionToken:
    session_id: UUID
    secret: str

    def __str__(self) -> str:
        return f"{self.session_id.hex}.{self.secret}"

    @property
    def hash(self) -> bytes:
        return secret_hash(self.secret)


def parse_session_token(raw: str) -> SessionToken | None:
    """None for anything that is not a well-formed token (never an exception)."""
    match = _SESSION_TOKEN_SHAPE.fullmatch(raw.strip())
    if match is None:
        return None
    return SessionToken(UUID(hex=match[1]), match[2])
