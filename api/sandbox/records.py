"""The sandbox's records: an account, its positions and orders, and the events orders emit.

Plain data with no behaviour beyond the obvious; what changes them lives in
``orders`` (the order life cycle) and ``accounts`` (keys), what reads them in
``valuation`` and ``wire``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from api.sandbox.assets import Asset
from api.sandbox.clock import now
from api.sandbox.configurations import AccountConfiguration
from api.sandbox.validation import OrderSubmission

OPEN_STATUSES = frozenset({"new", "accepted", "pending_new", "partially_filled", "held"})
QTY_PLACES = Decimal("0.000000001")  # Alpaca accepts up to 9 decimals of a share.


@dataclass(slots=True)
class SandboxPosition:
    asset: Asset
    qty: Decimal  # negative for a short position
    avg_entry_price: Decimal


@dataclass(slots=True, eq=False)  # compared by identity: parents and legs point at each other
class SandboxOrder:
    """An order as the broker keeps it: the request's terms and what has happened since."""

    id: uuid.UUID
    seq: int
    client_order_id: str
    position_intent: str
    terms: OrderSubmission  # as validated; its own client_order_id/position_intent may be unset
    created_at: datetime
    expires_at: datetime
    status: str = "new"
    updated_at: datetime = field(default_factory=now)
    filled_at: datetime | None = None
    expired_at: datetime | None = None
    canceled_at: datetime | None = None
    failed_at: datetime | None = None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    stop_triggered: bool = False
    # ORD-01: a bracket's, OTO's or OCO's exits hang under the order that carries them.
    parent: SandboxOrder | None = field(default=None, repr=False)
    legs: list[SandboxOrder] = field(default_factory=list)
    # A trailing stop's high (sell) or low (buy) water mark and the stop it makes now.
    hwm: Decimal | None = None
    trail_stop: Decimal | None = None
    # ORD-02: a replaced order names the order that replaced it, and the other way round.
    replaced_at: datetime | None = None
    replaced_by: uuid.UUID | None = None
    replaces: uuid.UUID | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def exits(self) -> list[SandboxOrder]:
        """The orders of which one filling cancels the others: an OCO pair is its parent
        and its leg, a bracket's (or OTO's) exits are its legs."""
        root = self.parent or self
        group = [root, *root.legs] if root.terms.order_class == "oco" else list(root.legs)
        return group

    @property
    def symbol(self) -> str:
        return self.terms.asset.symbol

    def touch(self, status: str) -> datetime:
        moment = now()
        self.status = status
        self.updated_at = moment
        return moment


@dataclass(frozen=True, slots=True)
class EquitySample:
    at: datetime
    equity: Decimal


@dataclass(frozen=True, slots=True)
class SandboxActivity:
    """A fill (``FILL``) or a dividend (``DIV``), as the activities endpoint lists it."""

    id: str  # Alpaca's "<time>::<uuid>" form, which is also the page token
    kind: str
    at: datetime
    symbol: str
    qty: Decimal
    price: Decimal  # the fill price, or the dividend per share
    net_amount: Decimal
    side: str | None = None
    order_id: uuid.UUID | None = None
    cum_qty: Decimal | None = None
    leaves_qty: Decimal | None = None
    order_status: str | None = None


@dataclass(slots=True)
class SandboxWatchlist:
    id: uuid.UUID
    name: str
    symbols: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class SandboxAccount:
    id: uuid.UUID
    account_number: str
    environment: str
    cash: Decimal
    created_at: datetime
    shorting_enabled: bool  # what the account may do; its holder can still opt out
    configuration: AccountConfiguration = field(default_factory=AccountConfiguration)
    starting_equity: Decimal = Decimal(0)
    positions: dict[str, SandboxPosition] = field(default_factory=dict)
    orders: dict[uuid.UUID, SandboxOrder] = field(default_factory=dict)
    client_order_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    orders_received: int = 0
    rest_calls: int = 0
    # HIST-01, HIST-02: what the account was worth over time and what happened to it.
    equity_samples: list[EquitySample] = field(default_factory=list)
    activities: list[SandboxActivity] = field(default_factory=list)
    watchlists: dict[uuid.UUID, SandboxWatchlist] = field(default_factory=dict)

    @property
    def may_short(self) -> bool:
        return self.shorting_enabled and not self.configuration.no_shorting


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One trade-update event for one account, in engine terms."""

    account: SandboxAccount
    event: str
    order: SandboxOrder
    timestamp: datetime
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None
    execution_id: uuid.UUID | None = None


Listener = Callable[[TradeEvent], None]


def shares_for(notional: Decimal, price: Decimal) -> Decimal:
    return (notional / price).quantize(QTY_PLACES, ROUND_DOWN)
