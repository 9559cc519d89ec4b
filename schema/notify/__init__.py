"""The notify domain of the schema: push devices and notification settings."""

from schema.notify.mutation import NotifyMutation
from schema.notify.query import NotifyQuery

__all__ = ["NotifyMutation", "NotifyQuery"]
