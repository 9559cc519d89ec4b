"""One account watched by this process, and publishing its order events (RT-01, RT-03).

An `AccountWatch` is shared by every local subscriber of the account: the
supervisor (api/live/supervisor.py) starts and ends it, the reconciliation
(api/live/catch_up.py) and the trade updates both report orders through
`publish_orders`, which keeps the watch's ledger true to what reached the bus.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from uuid import UUID

from api.broker.models import BrokerOrder
from api.db import Database
from api.live.ledger import OrderLedger
from api.realtime import OrderEvent, PositionsChangedEvent, SnapshotEvent, WireEvent, publish_many
from api.realtime.connections import CONNECTION_ERRORS

if TYPE_CHECKING:
    from api.broker.trade_stream import KeylessTradingStream

log = logging.getLogger(__name__)

POSITION_EVENTS = frozenset({"fill", "partial_fill", "canceled"})


@dataclass(eq=False)
class AccountWatch:
    """One account watched by this process: shared by all of its local subscribers."""

    owner_id: UUID
    account_id: UUID
    ledger: OrderLedger
    refs: int = 0
    task: asyncio.Task[None] | None = None
    linger: asyncio.TimerHandle | None = None
    # The last snapshot published by anyone (for "only when it changed").
    published: SnapshotEvent | None = None
    # The newest snapshot known, and when (monotonic), for new subscribers' first event.
    latest: SnapshotEvent | None = None
    latest_at: float = 0.0
    fetching: asyncio.Task[SnapshotEvent] | None = None
    stream: KeylessTradingStream | None = None
    refresh_wanted: asyncio.Event = field(default_factory=asyncio.Event)
    reconcile_wanted: asyncio.Event = field(default_factory=asyncio.Event)
    # The owner was told the broker refused the keys; told again only after they worked.
    refusal_reported: bool = False
    # Whether the stored mark was read into the ledger, and after which of the stream's
    # connects a reconciliation last completed (then the mark may move with the clock).
    mark_read: bool = False
    reconciled_connects: int = -1

    def remember(self, snapshot: SnapshotEvent, *, published: bool) -> None:
        if published:
            self.published = snapshot
        if self.latest is None or snapshot.as_of >= self.latest.as_of:
            self.latest, self.latest_at = snapshot, time.monotonic()


def same_balances(a: SnapshotEvent | None, b: SnapshotEvent) -> bool:
    return a is not None and a == replace(b, as_of=a.as_of)


async def publish_orders(
    database: Database, watch: AccountWatch, items: list[tuple[BrokerOrder, OrderEvent]]
) -> None:
    """Publish order events (and a positions change for fills and cancels) in one go;
    on failure the ledger forgets them and the next reconciliation reports them."""
    events: list[WireEvent] = [event for _, event in items]
    if any(event.event in POSITION_EVENTS for event in events if isinstance(event, OrderEvent)):
        events.append(PositionsChangedEvent(watch.account_id, watch.owner_id))
    for order, _ in items:
        watch.ledger.note(order.id, order.updated_at)
    watch.refresh_wanted.set()
    try:
        async with database.pool.acquire() as conn:
            await publish_many(conn, events)
    except CONNECTION_ERRORS as exc:
        log.error(
            "account %s: could not publish %d order event(s) (%s); will reconcile",
            watch.account_id,
            len(items),
            exc,
        )
        for order, _ in items:
            watch.ledger.forget(order.id, order.updated_at)
        watch.reconcile_wanted.set()
