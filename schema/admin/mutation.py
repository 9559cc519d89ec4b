"""Mutations of the admin domain (ADM-01): thin; api.auth.AuthService does the work."""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.context import Info
from schema.permissions import IsAdmin, IsAuthenticated


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, IsAdmin],
        description="Disable a user (their sessions end at once, WebSockets included, and "
        "they cannot sign in) or enable them again. The last admin cannot be disabled.",
    )
    async def set_user_disabled(self, info: Info, id: UUID, disabled: bool) -> bool:
        context = info.context
        await context.auth.set_user_disabled(context.require_principal(), id, disabled)
        return True

    @strawberry.mutation(
        permission_classes=[IsAuthenticated, IsAdmin],
        description="End a pending invite now: nobody can sign up with it any more.",
    )
    async def revoke_invite(self, info: Info, id: UUID) -> bool:
        context = info.context
        await context.auth.revoke_invite(context.require_principal(), id)
        return True
