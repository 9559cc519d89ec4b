"""GraphQL types of the trading domain, mapped from api.broker and api.trading records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TypeVar
from uuid import UUID

import strawberry

from api.broker import BrokerOrder, BrokerPosition
from api.trading import Proposal
from api.trading.orders import (
    OrderClass,
    OrderIntent,
    OrderType,
    Replacement,
    Side,
    TimeInForce,
    validate_intent,
    validate_replacement,
)
from api.trading.proposals import ProposalKind
from schema.accounts.types import Environment

# The order vocabulary's own enums, under their public GraphQL names (ORD-05).
strawberry.enum(Side, name="OrderSide")
strawberry.enum(OrderType)
strawberry.enum(TimeInForce)
strawberry.enum(OrderClass)
strawberry.enum(ProposalKind)

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
    order_class: OrderClass = strawberry.field(
        description="SIMPLE, or BRACKET/OTO/OCO with its exits in legs (ORD-01)"
    )
    legs: list[Order] = strawberry.field(
        description="A bracket's, OTO's or OCO's exit orders, held by the broker"
    )
    trail_price: Decimal | None
    trail_percent: Decimal | None
    hwm: Decimal | None = strawberry.field(
        description="A trailing stop's high (sell) or low (buy) water mark; its stopPrice "
        "is the stop that mark makes now"
    )
    replaced_by: str | None = strawberry.field(description="The order that replaced this one")
    replaces: str | None = strawberry.field(description="The order this one replaced")

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
            order_class=_known(OrderClass, o.order_class) or OrderClass.SIMPLE,
            legs=[cls.of(leg) for leg in o.legs],
            trail_price=o.trail_price,
            trail_percent=o.trail_percent,
            hwm=o.hwm,
            replaced_by=o.replaced_by,
            replaces=o.replaces,
        )


@strawberry.type(
    description="An order waiting for the person to confirm it; or, from the chat, every open "
    "order to cancel or every position to close (kind), which have no order fields."
)
class OrderProposal:
    id: UUID
    account_id: UUID
    kind: ProposalKind
    targets: list[str] = strawberry.field(
        description="CANCEL_ALL: the order ids it cancels; CLOSE_ALL: the symbols it closes."
    )
    symbol: str | None
    side: Side | None
    type: OrderType | None
    time_in_force: TimeInForce | None
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    order_class: OrderClass | None = strawberry.field(
        description="The order class; with its exits below, what confirming places (ORD-01)."
    )
    trail_price: Decimal | None
    trail_percent: Decimal | None
    take_profit_limit_price: Decimal | None
    stop_loss_stop_price: Decimal | None
    stop_loss_limit_price: Decimal | None
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
            kind=p.kind,
            targets=list(p.targets),
            symbol=t.symbol if t else None,
            side=t.side if t else None,
            type=t.type if t else None,
            time_in_force=t.time_in_force if t else None,
            qty=t.qty if t else None,
            notional=t.notional if t else None,
            limit_price=t.limit_price if t else None,
            stop_price=t.stop_price if t else None,
            order_class=t.order_class if t else None,
            trail_price=t.trail_price if t else None,
            trail_percent=t.trail_percent if t else None,
            take_profit_limit_price=t.take_profit_limit_price if t else None,
            stop_loss_stop_price=t.stop_loss_stop_price if t else None,
            stop_loss_limit_price=t.stop_loss_limit_price if t else None,
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
    order_class: OrderClass = strawberry.field(
        default=OrderClass.SIMPLE,
        description="BRACKET: entry with take-profit and stop-loss; OTO: entry with one of "
        "them; OCO: the two exits for a position held (type LIMIT, no entry price)",
    )
    trail_price: Decimal | None = strawberry.field(
        default=None, description="TRAILING_STOP: trail by this many dollars (or trailPercent)"
    )
    trail_percent: Decimal | None = strawberry.field(
        default=None, description="TRAILING_STOP: trail by this percent (5 = 5 %)"
    )
    take_profit_limit_price: Decimal | None = None
    stop_loss_stop_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = strawberry.field(
        default=None, description="Makes the stop-loss a stop-limit order"
    )
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
            order_class=self.order_class,
            trail_price=self.trail_price,
            trail_percent=self.trail_percent,
            take_profit_limit_price=self.take_profit_limit_price,
            stop_loss_stop_price=self.stop_loss_stop_price,
            stop_loss_limit_price=self.stop_loss_limit_price,
        )


@strawberry.input(description="What to change in an open order; the rest stays (ORD-02).")
class ReplaceOrderInput:
    qty: Decimal | None = strawberry.field(default=None, description="Whole shares only")
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    time_in_force: TimeInForce | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="One per submission, sent again on every retry: never replaces twice.",
    )

    def replacement(self) -> Replacement:
        """The change in shape, or BAD_USER_INPUT naming the input field (ORD-02)."""
        return validate_replacement(
            qty=self.qty,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            trail_price=self.trail_price,
            trail_percent=self.trail_percent,
            time_in_force=self.time_in_force,
        )
