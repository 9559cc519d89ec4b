"""GraphQL types of the auth domain, mapped from api.auth records (never from DB rows)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from api.auth import SignedIn, UserInfo
from api.auth.invites import IssuedInvite
from api.auth.security_log import SecurityEvent, SecurityEventKind
from schema.scalars import JSON


@strawberry.type(description="A person with an account on this server.")
class User:
    id: UUID
    email: str
    created_at: datetime
    is_admin: bool = strawberry.field(description="The install's admin: its first user (ADM-01).")

    @classmethod
    def of(cls, user: UserInfo) -> User:
        return cls(id=user.id, email=user.email, created_at=user.created_at, is_admin=user.is_admin)


@strawberry.type(description="A new session: send `token` as `Authorization: Bearer <token>`.")
class AuthPayload:
    token: str
    user: User

    @classmethod
    def of(cls, signed_in: SignedIn) -> AuthPayload:
        return cls(token=str(signed_in.token), user=User.of(signed_in.user))


@strawberry.type(description="A one-time code that lets one more person sign up.")
class Invite:
    code: str
    expires_at: datetime
    url: str = strawberry.field(description="A link that opens sign-up with this code.")

    @classmethod
    def of(cls, invite: IssuedInvite, origin: str) -> Invite:
        return cls(code=invite.code, expires_at=invite.expires_at, url=origin + invite.share_path())


@strawberry.type(description="Something that happened to the session a WebSocket runs on.")
class SessionEvent:
    user: User


strawberry.enum(SecurityEventKind, description="What a security log entry records.")


@strawberry.type(description="One entry of the signed-in person's security log (ADM-02).")
class SecurityLogEntry:
    id: UUID
    kind: SecurityEventKind
    detail: JSON = strawberry.field(
        description="What the entry names, by kind: device (user agent) and address for "
        "sign-ins and confirmations, the account for keys, limits and halts. Never a secret."
    )
    at: datetime

    @classmethod
    def of(cls, event: SecurityEvent) -> SecurityLogEntry:
        return cls(id=event.id, kind=event.kind, detail=JSON(event.detail), at=event.at)
