"""Finding a symbol by its ticker or its company's name ("apple" finds AAPL).

The broker's asset list is public reference data, the same for every account
of an environment, so it is kept in this process's memory per environment
and read again once a day; one read at a time per environment, whoever asks
first. It holds no user data, only symbols and names.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

from api.broker import BrokerAsset, BrokerGateway
from api.broker.models import AccountRef, Environment

REFRESH_SECONDS = 24 * 60 * 60
_WORD = re.compile(r"[a-z0-9]+")
# Words of company names that say nothing about which company it is.
_NOISE = frozenset({"inc", "common", "stock", "corporation", "corp", "class", "the", "co", "and"})


@dataclass(frozen=True, slots=True)
class _Listing:
    read_at: float
    assets: tuple[BrokerAsset, ...]


class SymbolDirectory:
    def __init__(self, gateway: BrokerGateway) -> None:
        self._gateway = gateway
        self._listings: dict[Environment, _Listing] = {}
        self._locks: dict[Environment, asyncio.Lock] = {}

    async def assets(self, ref: AccountRef) -> tuple[BrokerAsset, ...]:
        environment = ref.environment
        listing = self._listings.get(environment)
        if listing is not None and time.monotonic() - listing.read_at < REFRESH_SECONDS:
            return listing.assets
        lock = self._locks.setdefault(environment, asyncio.Lock())
        async with lock:
            listing = self._listings.get(environment)
            if listing is None or time.monotonic() - listing.read_at >= REFRESH_SECONDS:
                assets = tuple(await self._gateway.market.assets(ref))
                listing = _Listing(time.monotonic(), assets)
                self._listings[environment] = listing
        return listing.assets

    async def search(self, ref: AccountRef, query: str, limit: int) -> list[BrokerAsset]:
        """Best matches first: the exact symbol, symbols starting with the query, names
        whose words start with the query's words, then names containing it."""
        wanted = query.strip().lower()
        if not wanted:
            return []
        words = [w for w in _WORD.findall(wanted) if w not in _NOISE] or _WORD.findall(wanted)
        ranked: list[tuple[int, str, BrokerAsset]] = []
        for asset in await self.assets(ref):
            rank = _rank(asset, wanted, words)
            if rank is not None:
                ranked.append((rank, asset.symbol, asset))
        ranked.sort(key=lambda r: (r[0], len(r[1]), r[1]))
        return [asset for _, _, asset in ranked[:limit]]

    async def find(self, ref: AccountRef, symbol: str) -> BrokerAsset | None:
        wanted = symbol.strip().upper()
        return next((a for a in await self.assets(ref) if a.symbol == wanted), None)


def _rank(asset: BrokerAsset, wanted: str, words: list[str]) -> int | None:
    symbol = asset.symbol.lower()
    name = (asset.name or "").lower()
    if symbol == wanted:
        return 0
    if symbol.startswith(wanted):
        return 1
    name_words = _WORD.findall(name)
    if words and all(any(n.startswith(w) for n in name_words) for w in words):
        return 2 if name_words and name_words[0].startswith(words[0]) else 3
    if len(wanted) >= 3 and wanted in name:
        return 4
    return None
