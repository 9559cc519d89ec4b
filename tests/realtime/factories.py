"""Small builders for realtime events and a bounded wait for the next one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from api.broker.models import BrokerOrder
from api.realtime import Event, OrderEvent, SnapshotEvent, Subscription


def snapshot(owner_id: UUID, account_id: UUID, cash: int | str = 100) -> SnapshotEvent:
    return SnapshotEvent(
        account_id=account_id,
        owner_id=owner_id,
        cash=Decimal(cash),
        equity=Decimal("1000.25"),
        buying_power=Decimal("2000.50"),
        portfolio_value=Decimal("1000.25"),
        last_equity=Decimal("990.00"),
        currency="USD",
        status="ACTIVE",
        as_of=datetime.now(UTC),
        trading_blocked=False,
        pattern_day_trader=False,
    )


def order_fields(order_id: str | None = None, *, status: str = "new") -> BrokerOrder:
    now = datetime.now(UTC)
    return BrokerOrder(
        id=order_id or str(uuid4()),
        client_order_id=str(uuid4()),
        symbol="AAPL",
        asset_class="us_equity",
        side="buy",
        type="limit",
        time_in_force="day",
        status=status,
        qty=Decimal("10"),
        notional=None,
        filled_qty=Decimal("0"),
        filled_avg_price=None,
        limit_price=Decimal("187.25"),
        stop_price=None,
        extended_hours=False,
        created_at=now,
        updated_at=now,
        submitted_at=now,
        filled_at=None,
        canceled_at=None,
    )


def order_event(
    owner_id: UUID, account_id: UUID, order_id: str | None = None, event: str = "new"
) -> OrderEvent:
    return OrderEvent(
        account_id=account_id,
        owner_id=owner_id,
        event=event,
        order=order_fields(order_id, status=event),
        at=datetime.now(UTC),
    )


async def next_event(sub: Subscription, within: float = 3.0) -> Event:
    async with asyncio.timeout(within):
        return await anext(sub)


async def until_closed(sub: Subscription, within: float = 3.0) -> list[Event]:
    """Everything the subscription still yields before it ends."""
    async with asyncio.timeout(within):
        return [event async for event in sub]
