"""GraphQL types of the realtime domain, mapped from api.realtime events.

Event payloads carry only ids and the fields a client shows; their names
follow the committed contract (schema.graphql, the Subscription type).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated
from uuid import UUID

import strawberry

from api.broker import BrokerOrder
from api.live.feeds import AccountUpdate as FeedUpdate
from api.realtime import events
from schema.accounts.types import AccountSnapshot
from schema.realtime.execution import SharedPayload
from schema.trading.types import Order


@strawberry.type(description="The account's balances changed (and, first, its current ones).")
class SnapshotEvent(SharedPayload):
    account_id: UUID
    snapshot: AccountSnapshot


@strawberry.type(description="A trade update from the broker: new, fill, partial_fill, canceled …")
class OrderEvent(SharedPayload):
    account_id: UUID
    event: str
    order: Order
    at: datetime | None = strawberry.field(description="When the broker reported it")
    price: Decimal | None = strawberry.field(description="Execution price (fills)")
    qty: Decimal | None = strawberry.field(description="Executed quantity (fills)")


@strawberry.type(description="The account's positions changed: refetch them.")
class PositionsChangedEvent(SharedPayload):
    account_id: UUID


@strawberry.type(
    description="Events may have been missed (reason: reconnected, overflow): refetch everything; "
    "reason unavailable: nothing is live until a resync with another reason follows; "
    "reason keys_refused: the broker stopped accepting the account's keys, replace them."
)
class ResyncEvent(SharedPayload):
    account_id: UUID
    reason: str


AccountUpdate = Annotated[
    SnapshotEvent | OrderEvent | PositionsChangedEvent | ResyncEvent,
    strawberry.union("AccountUpdate"),
]


def _snapshot(event: events.SnapshotEvent) -> AccountSnapshot:
    # AccountSnapshot.of reads only the balance fields, which the event carries under
    # the same names; the broker's account number never travels on the bus.
    return AccountSnapshot.of(event)  # type: ignore[arg-type]


def _order(order: BrokerOrder) -> Order:
    return Order.of(order)


@lru_cache(maxsize=1024)
def account_update(account_id: UUID, event: FeedUpdate) -> AccountUpdate:
    """The GraphQL shape of one feed event of `account_id`.

    Memoised, so every subscriber of the account gets the same object for the
    same event and its execution is shared (execution.py). Events are frozen
    and carry their owner and account, so equal keys never cross tenants.
    """
    if isinstance(event, events.SnapshotEvent):
        return SnapshotEvent(account_id=account_id, snapshot=_snapshot(event))
    if isinstance(event, events.OrderEvent):
        return OrderEvent(
            account_id=account_id,
            event=event.event,
            order=_order(event.order),
            at=event.at,
            price=event.price,
            qty=event.qty,
        )
    if isinstance(event, events.PositionsChangedEvent):
        return PositionsChangedEvent(account_id=account_id)
    return ResyncEvent(account_id=account_id, reason=event.reason)


__all__ = [
    "AccountUpdate",
    "OrderEvent",
    "PositionsChangedEvent",
    "ResyncEvent",
    "SnapshotEvent",
    "account_update",
]
