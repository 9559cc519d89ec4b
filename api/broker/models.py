"""What the gateway hands to the rest of the product: small frozen dataclasses.

alpaca-py's pydantic models stay inside ``api/broker/``: the product sees these
types only, so swapping or upgrading the SDK touches one folder. Money, prices
and quantities are ``Decimal`` built from the broker's own strings, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

Environment = Literal["PAPER", "LIVE"]
OrderStatusFilter = Literal["open", "closed", "all"]
ENVIRONMENTS: tuple[Environment, ...] = ("PAPER", "LIVE")


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What the broker needs of one stored account: its environment and keys, still encrypted.

    ``api.accounts`` reads it in the owner's tenant scope as part of its
    ``Account``; the ciphertexts are bound to (id, owner_id) by the vault, and
    the gateway decrypts them inside each call and forgets the plaintext when
    it returns (CRED-02).
    """

    id: UUID
    owner_id: UUID
    environment: Environment
    key_id_encrypted: bytes = b""
    secret_encrypted: bytes = b""

    def __repr__(self) -> str:
        # The ciphertexts are useless without the key, but they are not for logs either.
        return f"AccountRef(id={self.id}, owner_id={self.owner_id}, environment={self.environment})"


@dataclass(frozen=True, slots=True)
class Verification:
    """The broker accepted a key pair (ACCT-01): which account it opens."""

    account_number: str
    status: str
    environment: Environment
    trading_blocked: bool


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Balances of one account at ``as_of`` (DISP-02, DISP-03)."""

    account_number: str
    environment: Environment
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    portfolio_value: Decimal
    last_equity: Decimal
    currency: str
    status: str
    trading_blocked: bool
    pattern_day_trader: bool
    as_of: datetime


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    symbol: str
    asset_class: str
    side: str
    qty: Decimal
    qty_available: Decimal | None
    avg_entry_price: Decimal
    market_value: Decimal | None
    cost_basis: Decimal
    unrealized_pl: Decimal | None
    unrealized_plpc: Decimal | None
    current_price: Decimal | None
    lastday_price: Decimal | None
    change_today: Decimal | None


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    id: str
    client_order_id: str
    symbol: str | None
    asset_class: str | None
    side: str | None
    type: str | None
    time_in_force: str
    status: str
    qty: Decimal | None
    notional: Decimal | None
    filled_qty: Decimal | None
    filled_avg_price: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    extended_hours: bool
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime
    filled_at: datetime | None
    canceled_at: datetime | None
    # ORD-01, ORD-02: the class, its legs (a bracket's exits), a trailing stop's trail and
    # its high/low water mark, and the orders a replacement links.
    order_class: str = "simple"
    legs: tuple[BrokerOrder, ...] = ()
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    replaced_by: str | None = None
    replaces: str | None = None


@dataclass(frozen=True, slots=True)
class BrokerQuote:
    symbol: str
    bid_price: Decimal
    bid_size: Decimal
    ask_price: Decimal
    ask_size: Decimal
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class BrokerAsset:
    symbol: str
    name: str | None
    exchange: str
    asset_class: str
    status: str
    tradable: bool
    fractionable: bool
    shortable: bool
    marginable: bool
    easy_to_borrow: bool


@dataclass(frozen=True, slots=True)
class Clock:
    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True, slots=True)
class BrokerConfiguration:
    """The brakes an account holder sets at Alpaca itself (GET /v2/account/configurations).

    The product's halt sets ``suspend_trade`` (RISK-04); ``no_shorting`` mirrors a
    limit at the broker. Names and values are Alpaca's own.
    """

    dtbp_check: str
    trade_confirm_email: str
    suspend_trade: bool
    no_shorting: bool
    fractional_trading: bool
    max_margin_multiplier: str
    pdt_check: str
    max_options_trading_level: int | None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order on the wire: Alpaca's own field names and spellings ("buy", "stop_limit").

    Plain strings on purpose: which orders make sense is decided above this
    layer, by the order vocabulary in api/trading/orders.py, which builds these
    from a validated intent (docs/architecture.md, "Layers and the import order").
    ``client_order_id`` is the idempotency key (TRADE-05): pass the proposal id
    when there is one, so a retry of the same proposal can never place twice;
    placement (``api.trading.placement``) makes a uuid4 when it is None.
    """

    symbol: str
    side: str
    type: str = "market"
    qty: Decimal | None = None
    notional: Decimal | None = None
    time_in_force: str = "day"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    extended_hours: bool = False
    order_class: str = "simple"
    client_order_id: str | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    take_profit_limit_price: Decimal | None = None
    stop_loss_stop_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    """A PATCH /v2/orders/{id} body in Alpaca's names (ORD-02); None leaves a field as it is.

    ``client_order_id`` names the new order the replacement creates (TRADE-05).
    """

    qty: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail: Decimal | None = None
    time_in_force: str | None = None
    client_order_id: str | None = None
