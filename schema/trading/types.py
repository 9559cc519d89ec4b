"""GraphQL types of the trading domain, mapped from api.broker and api.trading records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TypeVar
from uuid import UUID

import strawberry

from api.broker import Order as BrokerOrder
from api.broker import Position as BrokerPosition
from api.trading import Proposal
from api.trading.orders import OrderIntent, OrderType, Side, TimeInForce, validate_intent
from schema.accounts.types import Environment

# The order vocabulary's own enums, under their public GraphQL names (ORD-05).
strawberry.enum(Side, name="OrderSide")
strawberry.enum(OrderType)
strawberry.enum(TimeInForce)

_E = TypeVar("_E", bound=Enum)


def _known(kind: type[_E], value: str | None) -> _E | None:
    """The member for a broker's value, or None for one this product does not know."""
    return next((member for member in kind if member.value == value), None)


@strawberry.enum
class OrderStatusFilter(Enum):
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


@strawberry.type(description="An open position of the selected account.")
class Position:
    symbol: str
    qty: Decimal
    side: str
    avg_entry_price: Decimal
    current_price: Decimal | None
    market_value: Decimal | None
    cost_basis: Decimal
    unrealized_pl: Decimal | None
    unrealized_plpc: Decimal | None = strawberry.field(description="fraction, 0.05 = 5 %")
    change_today: Decimal | None = strawberry.field(description="fraction, 0.01 = 1 %")
    asset_class: str

    @classmethod
    def of(cls, p: BrokerPosition) -> Position:
        return cls(
            symbol=p.symbol,
            qty=p.qty,
            side=p.side,
            avg_entry_price=p.avg_entry_price,
            current_price=p.current_price,
            market_value=p.market_value,
            cost_basis=p.cost_basis,
            unrealized_pl=p.unrealized_pl,
            unrealized_plpc=p.unrealized_plpc,
            change_today=p.change_today,
            asset_class=p.asset_class,
        )


@strawberry.type(description="An order at the broker.")
class Order:
    id: str
    client_order_id: str
    symbol: str | None
    side: Side | None
    type: OrderType | None
    time_in_force: TimeInForce
    qty: Decimal | None
    notional: Decimal | None
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: str
    extended_hours: bool
    created_at: datetime
    submitted_at: datetime | None
    filled_at: datetime | None
    canceled_at: datetime | None

    @classmethod
    def of(cls, o: BrokerOrder) -> Order:
        return cls(
            id=o.id,
            client_order_id=o.client_order_id,
            symbol=o.symbol,
            side=_known(Side, o.side),
            type=_known(OrderType, o.type),
            time_in_force=TimeInForce(o.time_in_force),
            qty=o.qty,
            notional=o.notional,
            filled_qty=o.filled_qty or Decimal(0),
            filled_avg_price=o.filled_avg_price,
            limit_price=o.limit_price,
            stop_price=o.stop_price,
            status=o.status,
            extended_hours=o.extended_hours,
            created_at=o.created_at,
            submitted_at=o.submitted_at,
            filled_at=o.filled_at,
            canceled_at=o.canceled_at,
        )


@strawberry.type(description="An order waiting for the person to confirm it.")
class OrderProposal:
    id: UUID
    account_id: UUID
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    summary: str
    estimated_cost: Decimal
    environment: Environment
    expires_at: datetime
    status: str = strawberry.field(description="PENDING, CONFIRMED, DISMISSED or EXPIRED")
    order_id: str | None
    headroom: list[str] = strawberry.field(
        description="What the account's limits leave, e.g. \"$1,200.00 of $5,000.00 daily loss "
        'left today"; given when the proposal is made, empty when read back later.'
    )

    @classmethod
    def of(cls, p: Proposal) -> OrderProposal:
        t = p.intent
        return cls(
            id=p.id,
            account_id=p.account_id,
            symbol=t.symbol,
            side=t.side,
            type=t.type,
            time_in_force=t.time_in_force,
            qty=t.qty,
            notional=t.notional,
            limit_price=t.limit_price,
            stop_price=t.stop_price,
            summary=p.summary,
            estimated_cost=p.estimated_cost,
            environment=Environment(p.environment),
            expires_at=p.expires_at,
            status=p.status,
            order_id=p.broker_order_id,
            headroom=list(p.headroom),
        )


@strawberry.input(description="An order; give exactly one of qty and notional.")
class PlaceOrderInput:
    symbol: str
    side: Side
    account_id: UUID | None = strawberry.field(default=None, description="Default: active account")
    type: OrderType = OrderType.MARKET
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    extended_hours: bool = False
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="One per submission (e.g. a random UUID), sent again on every retry of "
        "it: the same key never places a second order and answers with the first outcome.",
    )

    def intent(self) -> OrderIntent:
        """The order in shape, or BAD_USER_INPUT naming the input field (ORD-05)."""
        return validate_intent(
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            qty=self.qty,
            notional=self.notional,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            time_in_force=self.time_in_force,
            extended_hours=self.extended_hours,
        )
