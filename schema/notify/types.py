"""GraphQL types of the notify domain, mapped from api.notify records (never from DB rows)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

import strawberry

from api.notify import Device, Kind, Preferences


@strawberry.enum(description="What a notification is about; each kind can be turned off.")
class NotificationKind(Enum):
    FILLS = Kind.FILLS.value
    REJECTIONS = Kind.REJECTIONS.value
    CANCELLATIONS = Kind.CANCELLATIONS.value
    EXPIRIES = Kind.EXPIRIES.value
    PROPOSALS = Kind.PROPOSALS.value
    BROKER_KEYS = Kind.BROKER_KEYS.value
    GUARD_REFUSALS = Kind.GUARD_REFUSALS.value
    HALTS = Kind.HALTS.value


@strawberry.input(description="A browser's PushSubscription: its endpoint and keys.")
class PushSubscriptionInput:
    endpoint: str
    p256dh: str = strawberry.field(description="keys.p256dh, base64url")
    auth: str = strawberry.field(description="keys.auth, base64url")


@strawberry.type(description="A device that receives notifications.")
class PushDevice:
    id: UUID
    endpoint: str
    created_at: datetime

    @classmethod
    def of(cls, device: Device) -> PushDevice:
        return cls(id=device.id, endpoint=device.endpoint, created_at=device.created_at)


@strawberry.type(description="Which notifications you get, on every device.")
class NotificationSettings:
    kinds: list[NotificationKind]
    hide_amounts: bool = strawberry.field(
        description="Leave quantities, prices and amounts off the lock screen."
    )

    @classmethod
    def of(cls, preferences: Preferences) -> NotificationSettings:
        return cls(
            kinds=[NotificationKind(kind.value) for kind in preferences.kinds],
            hide_amounts=preferences.hide_amounts,
        )


@strawberry.input(description="Omitted fields stay as they are.")
class NotificationSettingsInput:
    kinds: list[NotificationKind] | None = strawberry.field(
        default=None, description="The kinds to receive; the others are turned off."
    )
    hide_amounts: bool | None = None
