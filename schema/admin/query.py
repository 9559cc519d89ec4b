"""Queries of the admin domain (ADM-01): FORBIDDEN for everyone but the admin."""

from __future__ import annotations

import strawberry

from schema.admin.types import DirectoryEntry, InviteEntry
from schema.context import Info
from schema.limits import list_limit
from schema.permissions import IsAdmin, IsAuthenticated


@strawberry.type
class AdminQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated, IsAdmin],
        description="Everyone with an account on this server, oldest first (admin only).",
    )
    async def users(self, info: Info, limit: int = 100) -> list[DirectoryEntry]:
        context = info.context
        found = await context.auth.users(context.require_principal(), list_limit(limit))
        return [DirectoryEntry.of(user) for user in found]

    @strawberry.field(
        permission_classes=[IsAuthenticated, IsAdmin],
        description="Every invite, newest first: pending, used, expired or revoked (admin only).",
    )
    async def invites(self, info: Info, limit: int = 100) -> list[InviteEntry]:
        context = info.context
        found = await context.auth.invites(context.require_principal(), list_limit(limit))
        return [InviteEntry.of(invite) for invite in found]
