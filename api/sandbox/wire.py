"""Alpaca's JSON shapes for the sandbox's objects.

Money and quantities are strings (as Alpaca sends them), timestamps are RFC 3339
in UTC with a ``Z``. The shapes are checked twice in the tests: by alpaca-py's
own models and by the response schemas of Alpaca's OpenAPI document.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from api.sandbox.assets import CATALOG, Asset
from api.sandbox.bars import Bar
from api.sandbox.calendar import TradingDay
from api.sandbox.clock import MarketClock, now
from api.sandbox.configurations import AccountConfiguration
from api.sandbox.history import PortfolioHistory
from api.sandbox.prices import CENT, PriceBook, SandboxQuote
from api.sandbox.records import (
    SandboxAccount,
    SandboxActivity,
    SandboxOrder,
    SandboxPosition,
    SandboxWatchlist,
    TradeEvent,
)
from api.sandbox.valuation import Valuation

_RATIO = Decimal("0.0000000001")


def ts(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def num(value: Decimal | None) -> str | None:
    """A Decimal as Alpaca prints it: plain notation, no exponent, no trailing zeros."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def money(value: Decimal) -> str:
    return format(value.quantize(CENT, ROUND_HALF_UP), "f")


def order_json(order: SandboxOrder) -> dict[str, Any]:
    """An order as Alpaca sends it, its legs nested (ORD-01); a trailing stop's
    ``stop_price`` is the stop its water mark makes now."""
    terms = order.terms
    stop_price = order.trail_stop if terms.type == "trailing_stop" else terms.stop_price
    return {
        "id": str(order.id),
        "client_order_id": order.client_order_id,
        "created_at": ts(order.created_at),
        "updated_at": ts(order.updated_at),
        "submitted_at": ts(order.created_at),
        "filled_at": ts(order.filled_at),
        "expired_at": ts(order.expired_at),
        "expires_at": ts(order.expires_at),
        "canceled_at": ts(order.canceled_at),
        "failed_at": ts(order.failed_at),
        "replaced_at": ts(order.replaced_at),
        "replaced_by": str(order.replaced_by) if order.replaced_by else None,
        "replaces": str(order.replaces) if order.replaces else None,
        "asset_id": str(terms.asset.id),
        "symbol": terms.asset.symbol,
        "asset_class": terms.asset.asset_class,
        "notional": num(terms.notional),
        "qty": num(terms.qty),
        "filled_qty": num(order.filled_qty),
        "filled_avg_price": num(order.filled_avg_price),
        "order_class": terms.order_class,
        "order_type": terms.type,
        "type": terms.type,
        "side": terms.side,
        "position_intent": order.position_intent,
        "time_in_force": terms.time_in_force,
        "limit_price": num(terms.limit_price),
        "stop_price": num(stop_price),
        "status": order.status,
        "extended_hours": terms.extended_hours,
        "legs": [order_json(leg) for leg in order.legs] if order.legs else None,
        "trail_percent": num(terms.trail_percent),
        "trail_price": num(terms.trail_price),
        "hwm": num(order.hwm),
    }


def account_json(valuation: Valuation, account: SandboxAccount) -> dict[str, Any]:
    cash = account.cash
    equity = valuation.equity(account)
    power = money(valuation.buying_power(account))
    return {
        "id": str(account.id),
        "account_number": account.account_number,
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": "USD",
        "cash": money(cash),
        # A cash account (multiplier 1): every buying-power figure is the same number.
        "buying_power": power,
        "regt_buying_power": power,
        "daytrading_buying_power": power,
        "non_marginable_buying_power": power,
        "options_buying_power": power,
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": money(equity),
        "equity": money(equity),
        "last_equity": money(account.starting_equity),
        "long_market_value": money(valuation.long_market_value(account)),
        "short_market_value": money(valuation.short_market_value(account)),
        "initial_margin": "0",
        "maintenance_margin": "0",
        "last_maintenance_margin": "0",
        "sma": money(cash),
        "multiplier": "1",
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": account.configuration.suspend_trade,
        "shorting_enabled": account.may_short,
        "daytrade_count": 0,
        "options_approved_level": 0,
        "options_trading_level": 0,
        "created_at": ts(account.created_at),
        "balance_asof": account.created_at.date().isoformat(),
    }


def position_json(
    valuation: Valuation, account: SandboxAccount, position: SandboxPosition
) -> dict[str, Any]:
    symbol = position.asset.symbol
    current = valuation.prices.price(symbol)
    lastday = valuation.prices.lastday(symbol)
    cost_basis = position.qty * position.avg_entry_price
    market_value = position.qty * current
    unrealized = market_value - cost_basis
    intraday = position.qty * (current - lastday)
    available = valuation.qty_available(account, symbol) if position.qty > 0 else abs(position.qty)
    return {
        "asset_id": str(position.asset.id),
        "symbol": position.asset.position_symbol,
        "exchange": position.asset.exchange,
        "asset_class": position.asset.asset_class,
        "asset_marginable": position.asset.marginable,
        "avg_entry_price": num(position.avg_entry_price.quantize(Decimal("0.0001"), ROUND_HALF_UP)),
        "qty": num(position.qty),
        "qty_available": num(available),
        "side": "long" if position.qty > 0 else "short",
        "market_value": money(market_value),
        "cost_basis": money(cost_basis),
        "unrealized_pl": money(unrealized),
        "unrealized_plpc": _ratio(unrealized, abs(cost_basis)),
        "unrealized_intraday_pl": money(intraday),
        "unrealized_intraday_plpc": _ratio(intraday, abs(position.qty * lastday)),
        "current_price": num(current),
        "lastday_price": num(lastday),
        "change_today": _ratio(current - lastday, lastday),
    }


def _ratio(part: Decimal, whole: Decimal) -> str:
    if whole == 0:
        return "0"
    return num((part / whole).quantize(_RATIO, ROUND_HALF_UP)) or "0"


def configuration_json(configuration: AccountConfiguration) -> dict[str, Any]:
    # The dataclass's field names and values are Alpaca's own, so the shape is the dataclass.
    return asdict(configuration)


def asset_json(asset: Asset) -> dict[str, Any]:
    return {
        "id": str(asset.id),
        "class": asset.asset_class,
        "exchange": asset.exchange,
        "symbol": asset.symbol,
        "name": asset.name,
        "status": asset.status,
        "tradable": asset.tradable,
        "marginable": asset.marginable,
        "shortable": asset.shortable,
        "easy_to_borrow": asset.easy_to_borrow,
        "borrow_status": "easy_to_borrow" if asset.easy_to_borrow else "hard_to_borrow",
        "fractionable": asset.fractionable,
        "maintenance_margin_requirement": 30 if asset.marginable else 100,
        "margin_requirement_long": "30" if asset.marginable else "100",
        "margin_requirement_short": "100",
        "attributes": [],
    }


def clock_json(clock: MarketClock) -> dict[str, Any]:
    moment = now()
    return {
        "timestamp": moment.isoformat(),
        "is_open": clock.is_open,
        "next_open": clock.next_open(moment).isoformat(),
        "next_close": clock.next_close(moment).isoformat(),
    }


def trade_update(event: TradeEvent) -> dict[str, Any]:
    """A trade_updates stream message, as Alpaca's trading stream sends it."""
    data: dict[str, Any] = {
        "event": event.event,
        "timestamp": ts(event.timestamp),
        "order": order_json(event.order),
    }
    if event.execution_id is not None:
        data["execution_id"] = str(event.execution_id)
        data["price"] = num(event.price)
        data["qty"] = num(event.qty)
        data["position_qty"] = num(event.position_qty)
    return {"stream": "trade_updates", "data": data}


def quote_json(quote: SandboxQuote) -> dict[str, Any]:
    return {
        "t": ts(quote.timestamp),
        "ax": "V",
        "ap": float(quote.ask),
        "as": 2,
        "bx": "V",
        "bp": float(quote.bid),
        "bs": 3,
        "c": ["R"],
        "z": _tape(quote.symbol),
    }


def trade_json(prices: PriceBook, quote: SandboxQuote) -> dict[str, Any]:
    return {
        "t": ts(quote.timestamp),
        "x": "V",
        "p": float(quote.price),
        "s": 100,
        "c": ["@"],
        "i": prices.next_trade_id(),
        "z": _tape(quote.symbol),
    }


def _tape(symbol: str) -> str:
    # Tape C carries Nasdaq listings, A NYSE, B the rest; only cosmetic here.
    exchange = CATALOG[symbol].exchange
    return {"NASDAQ": "C", "NYSE": "A"}.get(exchange, "B")


def portfolio_history_json(history: PortfolioHistory) -> dict[str, Any]:
    # Alpaca sends these as JSON numbers; clients read them with a Decimal parser.
    return {
        "timestamp": history.timestamps,
        "equity": [float(e) for e in history.equity],
        "profit_loss": [float(p) for p in history.profit_loss()],
        "profit_loss_pct": [float(p) for p in history.profit_loss_pct()],
        "base_value": float(history.base_value),
        "timeframe": history.timeframe,
        "cashflow": {},
    }


def activity_json(account: SandboxAccount, activity: SandboxActivity) -> dict[str, Any]:
    if activity.kind == "FILL":
        return {
            "id": activity.id,
            "account_id": str(account.id),
            "activity_type": "FILL",
            "transaction_time": ts(activity.at),
            "type": "fill" if activity.leaves_qty == 0 else "partial_fill",
            "price": num(activity.price),
            "qty": num(activity.qty),
            "side": activity.side,
            "symbol": activity.symbol,
            "leaves_qty": num(activity.leaves_qty),
            "order_id": str(activity.order_id),
            "cum_qty": num(activity.cum_qty),
            "order_status": activity.order_status,
        }
    return {
        "id": activity.id,
        "account_id": str(account.id),
        "activity_type": activity.kind,
        "activity_sub_type": "CDIV",
        "date": activity.at.date().isoformat(),
        "created_at": ts(activity.at),
        "net_amount": money(activity.net_amount),
        "description": f"Cash DIV @ {num(activity.price)}, Pos QTY: {num(activity.qty)}",
        "symbol": activity.symbol,
        "qty": num(activity.qty),
        "per_share_amount": num(activity.price),
        "currency": "USD",
        "status": "executed",
    }


def watchlist_json(
    account: SandboxAccount, watchlist: SandboxWatchlist, with_assets: bool = True
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(watchlist.id),
        "account_id": str(account.id),
        "name": watchlist.name,
        "created_at": ts(watchlist.created_at),
        "updated_at": ts(watchlist.updated_at),
    }
    if with_assets:
        body["assets"] = [asset_json(CATALOG[s]) for s in watchlist.symbols]
    return body


def calendar_json(day: TradingDay) -> dict[str, Any]:
    close = day.close.replace(":", "")
    return {
        "date": day.day.isoformat(),
        "open": day.open,
        "close": day.close,
        "session_open": "0400",
        "session_close": "2000" if close == "1600" else "1700",
        "settlement_date": day.settlement.isoformat(),
    }


def bar_json(bar: Bar) -> dict[str, Any]:
    vwap = (bar.high + bar.low + bar.close) / 3
    return {
        "t": bar.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "o": float(bar.open),
        "h": float(bar.high),
        "l": float(bar.low),
        "c": float(bar.close),
        "v": bar.volume,
        "n": bar.trades,
        "vw": float(vwap.quantize(Decimal("0.0001"), ROUND_HALF_UP)),
    }
