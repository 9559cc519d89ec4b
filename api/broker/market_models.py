"""What the history and market views get from the broker: small frozen dataclasses.

Kept apart from ``api.broker.models`` (orders and balances) because these are
read-only views of the past and of public market data (docs/requirements.md,
HIST-01..04). Money and prices are ``Decimal`` from the broker's own digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """The account's equity at the end of the window that starts at ``at``."""

    at: datetime
    equity: Decimal


@dataclass(frozen=True, slots=True)
class EquityHistory:
    """Alpaca's portfolio history, less its own profit and loss (computed by the caller)."""

    points: tuple[EquityPoint, ...]
    base_value: Decimal | None
    timeframe: str


@dataclass(frozen=True, slots=True)
class BrokerActivity:
    """One entry of the account's activity feed: a fill, a dividend, a fee, a transfer ...

    ``kind`` is Alpaca's activity type (FILL, DIV, FEE, CSD, ...); a fill has a
    side, quantity and price, its ``net_amount`` is what it moved in cash.
    """

    id: str
    kind: str
    at: datetime
    symbol: str | None
    side: str | None
    qty: Decimal | None
    price: Decimal | None
    net_amount: Decimal | None
    description: str | None


@dataclass(frozen=True, slots=True)
class BrokerBar:
    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class TradingDay:
    """One day of the market calendar, its open and close as instants."""

    date: date
    open: datetime
    close: datetime


@dataclass(frozen=True, slots=True)
class Watchlist:
    id: str
    name: str
    symbols: tuple[str, ...]
