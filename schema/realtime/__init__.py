"""The realtime domain of the schema: live account updates and active-account switches."""

from schema.realtime.subscription import RealtimeSubscription

__all__ = ["RealtimeSubscription"]
