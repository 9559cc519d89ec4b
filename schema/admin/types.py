"""GraphQL types of the admin's directory, mapped from api.auth.directory records."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from api.auth.directory import DirectoryInvite, DirectoryUser, InviteStatus

strawberry.enum(InviteStatus, description="Where an invite stands.")


@strawberry.type(
    description="A person as the admin's directory shows them: never keys, never what an "
    "account holds."
)
class DirectoryEntry:
    id: UUID
    email: str
    created_at: datetime
    last_seen_at: datetime | None = strawberry.field(
        description="The last time any of their sessions was used."
    )
    account_count: int = strawberry.field(description="How many broker accounts they connected.")
    is_admin: bool
    disabled: bool
    disabled_at: datetime | None

    @classmethod
    def of(cls, user: DirectoryUser) -> DirectoryEntry:
        return cls(
            id=user.id,
            email=user.email,
            created_at=user.created_at,
            last_seen_at=user.last_seen_at,
            account_count=user.account_count,
            is_admin=user.is_admin,
            disabled=user.disabled_at is not None,
            disabled_at=user.disabled_at,
        )


@strawberry.type(description="An invite anyone made, as the admin sees it (never its code).")
class InviteEntry:
    id: UUID
    created_by_email: str | None = strawberry.field(
        description="Who made it; null: the operator (`alpaca-chat invite`)."
    )
    created_at: datetime
    expires_at: datetime
    used_by_email: str | None
    used_at: datetime | None
    status: InviteStatus

    @classmethod
    def of(cls, invite: DirectoryInvite) -> InviteEntry:
        return cls(
            id=invite.id,
            created_by_email=invite.created_by_email,
            created_at=invite.created_at,
            expires_at=invite.expires_at,
            used_by_email=invite.used_by_email,
            used_at=invite.used_at,
            status=invite.status,
        )
