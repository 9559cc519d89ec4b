"""Queries of the auth domain."""

from __future__ import annotations

import strawberry

from schema.auth.types import User
from schema.context import Info


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The signed-in user, or null.")
    async def me(self, info: Info) -> User | None:
        principal = info.context.principal
        if principal is None:
            return None
        user = await info.context.auth.current_user(principal)
        return None if user is None else User.of(user)
