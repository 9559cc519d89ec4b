"""The account's watchlist, kept at the broker in Alpaca's watchlists API.

One list per account, the one named ``Primary Watchlist`` (the name Alpaca's
own apps use), made on the first add. Its quotes come in one batched call, so
a long list costs one request of the account's ~200 a minute.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.broker import BrokerGateway, BrokerQuote
from api.broker.market_models import Watchlist
from api.broker.models import AccountRef

WATCHLIST_NAME = "Primary Watchlist"


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    symbol: str
    name: str | None
    quote: BrokerQuote | None


@dataclass(frozen=True, slots=True)
class WatchlistView:
    name: str
    entries: tuple[WatchlistEntry, ...]


async def find(gateway: BrokerGateway, ref: AccountRef) -> Watchlist | None:
    listed = await gateway.market.watchlists(ref)
    chosen = next((w for w in listed if w.name == WATCHLIST_NAME), None)
    # The list of watchlists carries no symbols: read the chosen one.
    return await gateway.market.watchlist(ref, chosen.id) if chosen else None


async def add(gateway: BrokerGateway, ref: AccountRef, symbol: str) -> Watchlist:
    current = await find(gateway, ref)
    if current is None:
        return await gateway.market.create_watchlist(ref, WATCHLIST_NAME, [symbol])
    if symbol in current.symbols:
        return current
    return await gateway.market.add_to_watchlist(ref, current.id, symbol)


async def remove(gateway: BrokerGateway, ref: AccountRef, symbol: str) -> Watchlist | None:
    current = await find(gateway, ref)
    if current is None or symbol not in current.symbols:
        return current
    return await gateway.market.remove_from_watchlist(ref, current.id, symbol)
