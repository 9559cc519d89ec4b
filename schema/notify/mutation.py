"""Mutations of the notify domain (PUSH-01, PUSH-02): thin over api.notify."""

from __future__ import annotations

import strawberry

from api.notify import Kind
from schema.context import Info
from schema.notify.types import (
    NotificationSettings,
    NotificationSettingsInput,
    PushDevice,
    PushSubscriptionInput,
)
from schema.permissions import IsAuthenticated


@strawberry.type
class NotifyMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Send this device notifications. Only browsers' own push services are "
        "accepted (BAD_USER_INPUT, field endpoint); FORBIDDEN while the server has push off.",
    )
    async def add_push_subscription(self, info: Info, input: PushSubscriptionInput) -> PushDevice:
        context = info.context
        user_id = context.require_principal().user_id
        device = await context.services.notify.add_device(
            user_id, input.endpoint, input.p256dh, input.auth, context.user_agent
        )
        return PushDevice.of(device)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="False when it was not subscribed."
    )
    async def remove_push_subscription(self, info: Info, endpoint: str) -> bool:
        user_id = info.context.require_principal().user_id
        return await info.context.services.notify.remove_device(user_id, endpoint)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def set_notification_settings(
        self, info: Info, input: NotificationSettingsInput
    ) -> NotificationSettings:
        user_id = info.context.require_principal().user_id
        kinds = None if input.kinds is None else [Kind(kind.value) for kind in input.kinds]
        preferences = await info.context.services.notify.set_preferences(
            user_id, kinds=kinds, hide_amounts=input.hide_amounts
        )
        return NotificationSettings.of(preferences)
