"""GraphQL types of the auth domain, mapped from api.auth records (never from DB rows)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from api.auth import SignedIn, UserInfo
from api.auth.invites import IssuedInvite


@strawberry.type(description="A person with an account on this server.")
class User:
    id: UUID
    email: str
    created_at: datetime

    @classmethod
    def of(cls, user: UserInfo) -> User:
        return cls(id=user.id, email=user.email, created_at=user.created_at)


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
