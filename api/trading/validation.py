"""TRADE-02: an order is checked against the account's real state before it is sent.

Account active and not blocked, symbol known and tradable (fractional only
where fractionable), enough buying power for a buy, enough shares for a sell;
a bracket's exits on the right side of its entry and an OCO pair only on a
position held (ORD-01). A price that looks like a slip (a stop on the wrong
side of the market, a limit far from it) is not refused but named in
`CheckedOrder.price_check`, for the person to confirm.
The broker reads run concurrently, so checking costs one broker round trip.
The order's shape (orders.py) is checked again first, so an intent read back
from a stored proposal meets today's rules before it can be sent (ORD-05).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from api.accounts import AccountRecord
from api.broker import AccountRef, BrokerAsset, BrokerGateway, BrokerPosition, BrokerQuote, Snapshot
from api.errors import BadUserInput
from api.trading.guards import Market
from api.trading.orders import (
    OrderClass,
    OrderIntent,
    OrderType,
    Side,
    check_legs,
    check_shape,
    same_symbol,
)

_CENT = Decimal("0.01")
DEFAULT_PRICE_CHECK_PERCENT = Decimal(10)


@dataclass(frozen=True, slots=True)
class CheckedOrder:
    """An order that fits the account, and what the broker said while checking it.

    `market` is handed on to the limits check (api/trading/guards.py), so
    judging an order costs no second round trip to the broker.
    """

    intent: OrderIntent
    estimated_cost: Decimal
    summary: str
    market: Market
    # Why the price should be confirmed ("the stop is above the market"), or None.
    price_check: str | None = None


def _reference_price(intent: OrderIntent, quote: BrokerQuote) -> Decimal:
    if intent.limit_price is not None:
        return intent.limit_price
    if intent.stop_price is not None:
        return intent.stop_price
    market = quote.ask_price if intent.side is Side.BUY else quote.bid_price
    return market if market > 0 else max(quote.ask_price, quote.bid_price)


def _market_price(intent: OrderIntent, quote: BrokerQuote) -> Decimal:
    """Where the market is for this order: the side it would trade at, else the other."""
    market = quote.ask_price if intent.side is Side.BUY else quote.bid_price
    return market if market > 0 else max(quote.ask_price, quote.bid_price)


def _check_exits(intent: OrderIntent, quote: BrokerQuote, positions: list[BrokerPosition]) -> None:
    """ORD-01: exits on the right side of the entry; an OCO pair closes a position held."""
    if intent.order_class is OrderClass.SIMPLE:
        return
    market = _market_price(intent, quote)
    entry = intent.limit_price if intent.order_class is not OrderClass.OCO else None
    if entry is None and market <= 0:
        raise BadUserInput(f"No price is known for {intent.symbol}; give a limit price")
    check_legs(intent, entry if entry is not None else market)
    if intent.order_class is OrderClass.OCO:
        wanted = "long" if intent.side is Side.SELL else "short"
        held = sum(
            (
                abs(p.qty)
                for p in positions
                if same_symbol(p.symbol, intent.symbol) and p.side == wanted
            ),
            Decimal(0),
        )
        if (intent.qty or Decimal(0)) > held:
            raise BadUserInput(
                f"An OCO order protects a position: you hold {held:f} {intent.symbol} "
                f"{wanted}, and it would {intent.side.value} {intent.qty:f}",
                field="qty",
            )


def price_check(intent: OrderIntent, quote: BrokerQuote, percent: Decimal) -> str | None:
    """Why this order's price looks like a slip, or None (ORD-01: order-entry sanity).

    A buy stop below the market (a sell stop above it) would trigger at once; a buy limit
    more than `percent` above the market (a sell limit that far below it) is more often a
    typo than a plan, and would trade at any price up to it.
    """
    market = _market_price(intent, quote)
    if market <= 0:
        return None
    stop = intent.stop_price
    if stop is not None and intent.type in (OrderType.STOP, OrderType.STOP_LIMIT):
        wrong = stop <= market if intent.side is Side.BUY else stop >= market
        if wrong:
            where = "below" if intent.side is Side.BUY else "above"
            return (
                f"The stop (${stop:,.2f}) is {where} the market (${market:,.2f}), so it "
                "would trigger at once"
            )
    limit = intent.limit_price
    if limit is not None:
        # Only a limit through the market can cost money: one far on the resting side
        # simply waits (people park such orders on purpose).
        away = (limit - market if intent.side is Side.BUY else market - limit) / market * 100
        if away > percent:
            return f"The limit (${limit:,.2f}) is {away:.0f}% away from the market (${market:,.2f})"
    return None


def _check_asset(intent: OrderIntent, asset: BrokerAsset | None) -> BrokerAsset:
    if asset is None:
        raise BadUserInput(f"{intent.symbol} is not a known symbol", field="symbol")
    if not asset.tradable or asset.status.lower() != "active":
        raise BadUserInput(f"{intent.symbol} cannot be traded", field="symbol")
    if intent.fractional and not asset.fractionable:
        raise BadUserInput(
            f"{intent.symbol} trades in whole shares only",
            field=intent.amount_field,
        )
    return asset


def _check_account(snapshot: Snapshot) -> None:
    if snapshot.status.upper() != "ACTIVE" or snapshot.trading_blocked:
        raise BadUserInput("Trading is blocked on this account at the broker", field="accountId")


def _check_funds(
    intent: OrderIntent, snapshot: Snapshot, positions: list[BrokerPosition], price: Decimal
) -> Decimal:
    if intent.notional is not None:
        cost = intent.notional
        shares = intent.notional / price if price > 0 else Decimal(0)
    else:
        shares = intent.qty or Decimal(0)
        cost = shares * price
    cost = cost.quantize(_CENT)
    if intent.side is Side.BUY:
        if cost > snapshot.buying_power:
            raise BadUserInput(
                f"Not enough buying power: this needs about ${cost:,.2f}, "
                f"the account has ${snapshot.buying_power:,.2f}",
                field=intent.amount_field,
            )
    else:
        held = sum(
            (p.qty for p in positions if same_symbol(p.symbol, intent.symbol) and p.side == "long"),
            Decimal(0),
        )
        if shares > held:
            raise BadUserInput(
                f"You hold {held:f} {intent.symbol}; selling {shares:f} would go short",
                field=intent.amount_field,
            )
    return cost


async def check_order(
    gateway: BrokerGateway,
    ref: AccountRef,
    account: AccountRecord,
    intent: OrderIntent,
    price_check_percent: Decimal = DEFAULT_PRICE_CHECK_PERCENT,
) -> CheckedOrder:
    check_shape(intent)
    snapshot, asset, positions, quote, last = await asyncio.gather(
        gateway.snapshot(ref),
        gateway.asset(ref, intent.symbol),
        gateway.positions(ref),
        gateway.latest_quote(ref, intent.symbol),
        gateway.latest_trade_price(ref, intent.symbol),
        return_exceptions=True,
    )
    # An unknown symbol also fails the quote: report the symbol first, it is the cause.
    if isinstance(asset, BaseException):
        raise asset
    _check_asset(intent, asset)
    for result in (snapshot, positions, quote):
        if isinstance(result, BaseException):
            raise result
    _check_account(snapshot)  # type: ignore[arg-type]
    _check_exits(intent, quote, positions)  # type: ignore[arg-type]
    cost = _check_funds(intent, snapshot, positions, _reference_price(intent, quote))  # type: ignore[arg-type]
    # No last trade is no reason to refuse here; the limits price the order without it.
    market = Market(
        snapshot,  # type: ignore[arg-type]
        positions,  # type: ignore[arg-type]
        quote,  # type: ignore[arg-type]
        None if isinstance(last, BaseException) else last,
    )
    summary = intent.describe(account.nickname, account.environment)
    warning = price_check(intent, quote, price_check_percent)  # type: ignore[arg-type]
    return CheckedOrder(intent, cost, summary, market, warning)
