"""Deterministic simulated market prices.

Every symbol starts at its catalog price and moves by a seeded, very slow random
walk, so a run is reproducible and resting orders far from the price stay
resting. ``set_price`` pins a price exactly, and the walk leaves a pinned symbol
where it was put (until it is set again), which is how tests make a limit or
stop order cross and read back exactly the price they set. Quotes are a
one-or-two-cent-wide bid/ask around the price.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

from api.sandbox.assets import CATALOG

CENT = Decimal("0.01")
_MIN_SPREAD = Decimal("0.02")
_SPREAD_FRACTION = Decimal("0.0002")
# Standard deviation of one tick's relative move: tiny, so a test's limit order
# placed a few percent away never crosses by accident.
_TICK_SIGMA = 0.0002


@dataclass(frozen=True, slots=True)
class SandboxQuote:
    symbol: str
    bid: Decimal
    ask: Decimal
    price: Decimal
    timestamp: datetime


class PriceBook:
    """Current price of every known symbol plus the previous close used for day P/L."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self._prices: dict[str, Decimal] = {s: a.base_price for s, a in CATALOG.items()}
        self._lastday: dict[str, Decimal] = dict(self._prices)
        self._updated: dict[str, datetime] = {s: _now() for s in CATALOG}
        self._pinned: set[str] = set()
        self._trade_ids = 0

    def knows(self, symbol: str) -> bool:
        return symbol in self._prices

    def price(self, symbol: str) -> Decimal:
        return self._prices[symbol]

    def lastday(self, symbol: str) -> Decimal:
        return self._lastday[symbol]

    def set_price(self, symbol: str, price: Decimal) -> None:
        if price <= 0:
            raise ValueError("price must be positive")
        self._prices[symbol] = price.quantize(CENT, ROUND_HALF_UP)
        self._updated[symbol] = _now()
        self._pinned.add(symbol)

    def tick(self) -> list[str]:
        """Move every unpinned price one small random step; returns the symbols that changed."""
        changed = []
        for symbol, old in self._prices.items():
            if symbol in self._pinned:
                continue
            step = Decimal(str(round(self._rng.gauss(0.0, _TICK_SIGMA), 6)))
            new = max(CENT, (old * (1 + step)).quantize(CENT, ROUND_HALF_UP))
            if new != old:
                self._prices[symbol] = new
                self._updated[symbol] = _now()
                changed.append(symbol)
        return changed

    def quote(self, symbol: str) -> SandboxQuote:
        price = self._prices[symbol]
        spread = max(_MIN_SPREAD, (price * _SPREAD_FRACTION).quantize(CENT, ROUND_HALF_UP))
        half = (spread / 2).quantize(CENT, ROUND_UP)
        bid = max(CENT, price - half)
        return SandboxQuote(symbol, bid, price + half, price, self._updated[symbol])

    def next_trade_id(self) -> int:
        self._trade_ids += 1
        return self._trade_ids


def _now() -> datetime:
    return datetime.now(UTC)
