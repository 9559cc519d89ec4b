"""Queries of the notify domain (PUSH-01): the server's push key, your devices and settings."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.notify.types import NotificationSettings, PushDevice
from schema.permissions import IsAuthenticated


@strawberry.type
class NotifyQuery:
    @strawberry.field(
        description="The VAPID public key (applicationServerKey) for PushManager.subscribe; "
        "null when this server has notifications off."
    )
    def vapid_public_key(self, info: Info) -> str | None:
        return info.context.services.notify.vapid_public_key

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def notification_settings(self, info: Info) -> NotificationSettings:
        user_id = info.context.require_principal().user_id
        return NotificationSettings.of(await info.context.services.notify.preferences(user_id))

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def push_devices(self, info: Info) -> list[PushDevice]:
        user_id = info.context.require_principal().user_id
        return [PushDevice.of(d) for d in await info.context.services.notify.devices(user_id)]
