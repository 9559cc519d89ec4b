"""Queries of the auth domain."""

from __future__ import annotations

import strawberry

from schema.auth.passkeys import PasskeyQuery
from schema.auth.types import SecurityLogEntry, User
from schema.context import Info
from schema.limits import list_limit
from schema.permissions import IsAuthenticated


@strawberry.type
class AuthQuery(PasskeyQuery):
    @strawberry.field(description="The signed-in user, or null.")
    async def me(self, info: Info) -> User | None:
        principal = info.context.principal
        if principal is None:
            return None
        user = await info.context.auth.current_user(principal)
        return None if user is None else User.of(user)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The signed-in person's security log, newest first: sign-ins (failed ones "
        "too), passkeys, broker keys, limits, halts and live confirmations.",
    )
    async def security_events(self, info: Info, limit: int = 50) -> list[SecurityLogEntry]:
        context = info.context
        events = await context.auth.security_events(context.require_principal(), list_limit(limit))
        return [SecurityLogEntry.of(event) for event in events]
