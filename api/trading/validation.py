"""TRADE-02: an order is checked against the account's real state before it is sent.

Account active and not blocked, symbol known and tradable (fractional only
where fractionable), enough buying power for a buy, enough shares for a sell.
The broker reads run concurrently, so checking costs one broker round trip.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from api.accounts import AccountRecord
from api.broker import AccountRef, Asset, BrokerGateway, Position, Quote, Snapshot
from api.errors import BadUserInput
from api.trading.tickets import OrderTicket

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CheckedOrder:
    ticket: OrderTicket
    estimated_cost: Decimal
    summary: str


def _reference_price(ticket: OrderTicket, quote: Quote) -> Decimal:
    if ticket.limit_price is not None:
        return ticket.limit_price
    if ticket.stop_price is not None:
        return ticket.stop_price
    market = quote.ask_price if ticket.side == "buy" else quote.bid_price
    return market if market > 0 else max(quote.ask_price, quote.bid_price)


def _check_asset(ticket: OrderTicket, asset: Asset | None) -> Asset:
    if asset is None:
        raise BadUserInput(f"{ticket.symbol} is not a known symbol", field="symbol")
    if not asset.tradable or asset.status.lower() != "active":
        raise BadUserInput(f"{ticket.symbol} cannot be traded", field="symbol")
    if ticket.fractional and not asset.fractionable:
        raise BadUserInput(
            f"{ticket.symbol} trades in whole shares only",
            field="qty" if ticket.qty else "notional",
        )
    return asset


def _check_account(snapshot: Snapshot) -> None:
    if snapshot.status.upper() != "ACTIVE" or snapshot.trading_blocked:
        raise BadUserInput("Trading is blocked on this account at the broker", field="accountId")


def _check_funds(
    ticket: OrderTicket, snapshot: Snapshot, positions: list[Position], price: Decimal
) -> Decimal:
    if ticket.notional is not None:
        cost = ticket.notional
        shares = ticket.notional / price if price > 0 else Decimal(0)
    else:
        shares = ticket.qty or Decimal(0)
        cost = shares * price
    cost = cost.quantize(_CENT)
    if ticket.side == "buy":
        if cost > snapshot.buying_power:
            raise BadUserInput(
                f"Not enough buying power: this needs about ${cost:,.2f}, "
                f"the account has ${snapshot.buying_power:,.2f}",
                field="qty" if ticket.qty else "notional",
            )
    else:
        held = sum(
            (p.qty for p in positions if p.symbol == ticket.symbol and p.side == "long"),
            Decimal(0),
        )
        if shares > held:
            raise BadUserInput(
                f"You hold {held:f} {ticket.symbol}; selling {shares:f} would go short",
                field="qty" if ticket.qty else "notional",
            )
    return cost


async def check_order(
    gateway: BrokerGateway, ref: AccountRef, account: AccountRecord, ticket: OrderTicket
) -> CheckedOrder:
    snapshot, asset, positions, quote = await asyncio.gather(
        gateway.snapshot(ref),
        gateway.asset(ref, ticket.symbol),
        gateway.positions(ref),
        gateway.latest_quote(ref, ticket.symbol),
        return_exceptions=True,
    )
    # An unknown symbol also fails the quote: report the symbol first, it is the cause.
    if isinstance(asset, BaseException):
        raise asset
    _check_asset(ticket, asset)
    for result in (snapshot, positions, quote):
        if isinstance(result, BaseException):
            raise result
    _check_account(snapshot)  # type: ignore[arg-type]
    cost = _check_funds(ticket, snapshot, positions, _reference_price(ticket, quote))  # type: ignore[arg-type]
    return CheckedOrder(ticket, cost, ticket.describe(account.nickname, account.environment))
