"""Push rows in the owner's tenant scope: devices, preferences, claimed deliveries.

Every function runs inside the caller's `Database.tenant(owner)` unit of work,
so row-level security shows only that owner's rows (PUSH-03, CRED-04). Inserts
are SQL naming only the granted columns (api/db/tables.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from api.db.tables import NotificationSettings, PushSubscription
from api.notify.messages import Kind
from api.notify.webpush import PushTarget

# Claims older than this are never contested again: every process hears an event
# within seconds, so a day is ample, and the table stays small.
DELIVERY_RETENTION = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Device:
    id: UUID
    endpoint: str
    p256dh: str
    auth: str
    created_at: datetime

    @property
    def target(self) -> PushTarget:
        return PushTarget(self.endpoint, self.p256dh, self.auth)


@dataclass(frozen=True, slots=True)
class Preferences:
    """Which kinds a person hears of, and whether amounts stay off the lock screen."""

    muted: frozenset[Kind] = frozenset()
    hide_amounts: bool = False

    @property
    def kinds(self) -> list[Kind]:
        return [kind for kind in Kind if kind not in self.muted]


_DEVICE_COLUMNS = (
    PushSubscription.id,
    PushSubscription.endpoint,
    PushSubscription.p256dh,
    PushSubscription.auth,
    PushSubscription.created_at,
)


async def add_device(
    conn: asyncpg.Connection,
    owner_id: UUID,
    target: PushTarget,
    user_agent: str | None,
) -> Device:
    """Store (or refresh) this browser's subscription; another user's claim on it ends."""
    await conn.execute("select app.take_push_endpoint($1)", target.endpoint)
    row = await conn.fetchrow(
        """insert into app.push_subscriptions (owner_id, endpoint, p256dh, auth, user_agent)
           values ($1, $2, $3, $4, $5)
           on conflict (endpoint) do update
             set p256dh = excluded.p256dh, auth = excluded.auth,
                 user_agent = excluded.user_agent, failures = 0
           returning id, endpoint, p256dh, auth, created_at""",
        owner_id,
        target.endpoint,
        target.p256dh,
        target.auth,
        user_agent,
    )
    assert row is not None
    return Device(**dict(row))


async def remove_device(endpoint: str) -> bool:
    removed = (
        await PushSubscription.delete()
        .where(PushSubscription.endpoint == endpoint)
        .returning(PushSubscription.id)
    )
    return bool(removed)


async def forget_device(device_id: UUID) -> None:
    await PushSubscription.delete().where(PushSubscription.id == device_id)


async def devices() -> list[Device]:
    rows = await PushSubscription.select(*_DEVICE_COLUMNS).order_by(PushSubscription.created_at)
    return [Device(**row) for row in rows]


async def preferences() -> Preferences:
    rows = await NotificationSettings.select(
        NotificationSettings.muted_kinds, NotificationSettings.hide_amounts
    )
    if not rows:
        return Preferences()
    raw = rows[0]["muted_kinds"]
    muted = json.loads(raw) if isinstance(raw, str) else raw
    return Preferences(
        frozenset(Kind(k) for k in muted if k in Kind.__members__), rows[0]["hide_amounts"]
    )


async def save_preferences(
    conn: asyncpg.Connection, owner_id: UUID, chosen: Preferences
) -> Preferences:
    await conn.execute(
        """insert into app.notification_settings (owner_id, muted_kinds, hide_amounts, updated_at)
           values ($1, $2, $3, now())
           on conflict (owner_id) do update
             set muted_kinds = excluded.muted_kinds, hide_amounts = excluded.hide_amounts,
                 updated_at = now()""",
        owner_id,
        json.dumps(sorted(kind.value for kind in chosen.muted)),
        chosen.hide_amounts,
    )
    return chosen


async def claim(
    conn: asyncpg.Connection,
    owner_id: UUID,
    event_id: str,
    kind: Kind,
    device_ids: Sequence[UUID],
) -> set[UUID]:
    """The devices this process sends `event_id` to: those whose claim it inserted first.

    Every process that hears the event runs this; the unique (event, device) key
    lets exactly one insert win per device (PUSH-03). Old claims are pruned here.
    """
    rows = await conn.fetch(
        """insert into app.push_deliveries (owner_id, subscription_id, event_id, kind)
           select $1, device, $3, $4 from unnest($2::uuid[]) as device
           on conflict (event_id, subscription_id) do nothing
           returning subscription_id""",
        owner_id,
        list(device_ids),
        event_id,
        kind.value,
    )
    await conn.execute(
        "delete from app.push_deliveries where created_at < now() - $1::interval",
        DELIVERY_RETENTION,
    )
    return {row["subscription_id"] for row in rows}


async def finish(
    conn: asyncpg.Connection, event_id: str, device_id: UUID, status: str, attempts: int
) -> None:
    """Record how the claimed delivery ended, and the device's record of successes."""
    await conn.execute(
        """update app.push_deliveries set status = $3, attempts = $4, updated_at = now()
           where event_id = $1 and subscription_id = $2""",
        event_id,
        device_id,
        status,
        attempts,
    )
    if status == "SENT":
        await conn.execute(
            "update app.push_subscriptions set last_success_at = now(), failures = 0 where id = $1",
            device_id,
        )
    elif status == "FAILED":
        await conn.execute(
            "update app.push_subscriptions set failures = failures + 1 where id = $1", device_id
        )
