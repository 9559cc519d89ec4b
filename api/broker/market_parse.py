"""Broker answers of the history and market views in, ``api.broker.market_models`` out.

alpaca-py's models validate where they fit: ``PortfolioHistory``, ``Bar``,
``Calendar`` and ``Watchlist``; numbers are then read from the answer decoded
with ``parse_float=Decimal``, never through the models' floats. Activities are
read here alone: alpaca-py's ``TradeActivity``/``NonTradeActivity`` hold money
as floats and require an ``account_id`` that Alpaca's own document does not
promise, so they would turn a valid answer into a failure. A malformed answer
is BROKER_UNAVAILABLE (``parse.parsed``). The models are imported where they are
used, as in parse.py: importing them loads pandas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from api.broker.market_models import (
    BrokerActivity,
    BrokerBar,
    EquityHistory,
    EquityPoint,
    TradingDay,
    Watchlist,
)
from api.broker.parse import dec

# The calendar's times are New York's wall clock.
MARKET_TIME_ZONE = ZoneInfo("America/New_York")


def equity_history(raw: Any) -> EquityHistory:
    from alpaca.trading.models import PortfolioHistory as AlpacaPortfolioHistory

    item = AlpacaPortfolioHistory(**raw)
    points = tuple(
        EquityPoint(datetime.fromtimestamp(at, UTC), _decimal(equity))
        for at, equity in zip(item.timestamp, raw["equity"], strict=True)
        # Alpaca sends null equity for windows before the account had any.
        if equity is not None
    )
    return EquityHistory(points, dec(raw.get("base_value")), item.timeframe)


def activity(raw: Any) -> BrokerActivity:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise TypeError("an activity needs an id")
    kind = str(raw["activity_type"])
    if kind == "FILL":
        at = _instant(raw["transaction_time"])
        qty, price = _decimal(raw["qty"]), _decimal(raw["price"])
        side = str(raw["side"]).lower()
        value = qty * price
        net = -value if side.startswith("buy") else value
        return BrokerActivity(raw["id"], kind, at, str(raw["symbol"]), side, qty, price, net, None)
    moment = raw.get("created_at") or raw.get("date")
    return BrokerActivity(
        id=raw["id"],
        kind=kind,
        at=_instant(moment),
        symbol=raw.get("symbol"),
        side=None,
        qty=dec(raw.get("qty")),
        price=dec(raw.get("per_share_amount") or raw.get("price")),
        net_amount=dec(raw.get("net_amount")),
        description=raw.get("description") or None,
    )


def activities(raw: Any) -> list[BrokerActivity]:
    if not isinstance(raw, list):
        raise TypeError("activities must be a list")
    return [activity(item) for item in raw]


def bars(symbol: str, raw: Any) -> list[BrokerBar]:
    """``raw`` is one symbol's list of bars, decoded with ``parse_float=Decimal``."""
    if not isinstance(raw, list):
        raise TypeError("bars must be a list")
    return [_bar(symbol, item) for item in raw]


def _bar(symbol: str, raw: dict[str, Any]) -> BrokerBar:
    from alpaca.data.models.bars import Bar as AlpacaBar

    item = AlpacaBar(symbol, raw)
    return BrokerBar(
        at=item.timestamp,
        open=_decimal(raw["o"]),
        high=_decimal(raw["h"]),
        low=_decimal(raw["l"]),
        close=_decimal(raw["c"]),
        volume=_decimal(raw["v"]),
    )


def calendar(raw: Any) -> list[TradingDay]:
    from alpaca.trading.models import Calendar as AlpacaCalendar

    if not isinstance(raw, list):
        raise TypeError("a calendar must be a list")
    days = []
    for entry in raw:
        item = AlpacaCalendar(**entry)
        days.append(
            TradingDay(
                date=item.date,
                open=item.open.replace(tzinfo=MARKET_TIME_ZONE).astimezone(UTC),
                close=item.close.replace(tzinfo=MARKET_TIME_ZONE).astimezone(UTC),
            )
        )
    return days


def watchlist(raw: Any) -> Watchlist:
    from alpaca.trading.models import Watchlist as AlpacaWatchlist

    item = AlpacaWatchlist(**raw)
    return Watchlist(str(item.id), item.name, tuple(a.symbol for a in item.assets or ()))


def watchlists(raw: Any) -> list[Watchlist]:
    if not isinstance(raw, list):
        raise TypeError("watchlists must be a list")
    # The list omits the assets; each watchlist's symbols come from reading it by id.
    return [watchlist({**entry, "assets": None}) for entry in raw]


def _decimal(value: Any) -> Decimal:
    number = dec(value)
    if number is None:
        raise ValueError("a number is missing")
    return number


def _instant(value: Any) -> datetime:
    text = str(value)
    if len(text) == 10:  # a date alone: the start of that day in New York
        return datetime.fromisoformat(text).replace(tzinfo=MARKET_TIME_ZONE).astimezone(UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
