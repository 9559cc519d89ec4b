"""Realtime events: PostgreSQL LISTEN/NOTIFY between processes, bounded fan-out within one.

`EventBus` (one per process) listens and fans out; `publish` / `publish_now`
send; `events` defines what may be sent; `StreamLocks` gives each account's
broker stream exactly one owner across processes (RT-02, RT-03, ISO-03).
"""

from api.realtime.bus import EventBus, Subscription
from api.realtime.events import (
    CHANNEL,
    AccountAlertEvent,
    AccountRemovedEvent,
    ActiveAccountChangedEvent,
    Event,
    EventTooLarge,
    Key,
    OrderEvent,
    OrdersMissedEvent,
    PositionsChangedEvent,
    ResyncEvent,
    SessionRevokedEvent,
    SnapshotEvent,
    WireEvent,
    account_key,
    owner_key,
)
from api.realtime.ownership import Ownership, StreamLocks, lock_key
from api.realtime.publish import publish, publish_many, publish_now

__all__ = [
    "CHANNEL",
    "AccountAlertEvent",
    "AccountRemovedEvent",
    "ActiveAccountChangedEvent",
    "Event",
    "EventBus",
    "EventTooLarge",
    "Key",
    "OrderEvent",
    "OrdersMissedEvent",
    "Ownership",
    "PositionsChangedEvent",
    "ResyncEvent",
    "SessionRevokedEvent",
    "SnapshotEvent",
    "StreamLocks",
    "Subscription",
    "WireEvent",
    "account_key",
    "lock_key",
    "owner_key",
    "publish",
    "publish_many",
    "publish_now",
]
