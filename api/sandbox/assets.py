"""The fixed universe of symbols the sandbox knows.

Tests and offline demos need realistic, stable instruments: the same symbol
always has the same asset id, exchange and trading flags, and a plausible base
price. A few deliberately awkward assets (not fractionable, not shortable, not
tradable) let callers exercise Alpaca's refusals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

# A fixed namespace so asset ids are identical across runs and processes.
_ASSET_NAMESPACE = uuid.UUID("5b7e0c3a-6f0e-4f5e-9a53-0d1c2b3a4f5e")


@dataclass(frozen=True, slots=True)
class Asset:
    symbol: str
    name: str
    exchange: str
    base_price: Decimal
    fractionable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True
    marginable: bool = True
    tradable: bool = True
    status: str = "active"
    asset_class: str = "us_equity"

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(_ASSET_NAMESPACE, self.symbol)

    @property
    def crypto(self) -> bool:
        return self.asset_class == CRYPTO

    @property
    def position_symbol(self) -> str:
        """How a position lists the asset: Alpaca writes a held BTC/USD as BTCUSD."""
        return self.symbol.replace("/", "")


CRYPTO = "crypto"


def _a(symbol: str, name: str, exchange: str, price: str, **flags: bool | str) -> Asset:
    return Asset(symbol, name, exchange, Decimal(price), **flags)  # type: ignore[arg-type]


CATALOG: dict[str, Asset] = {
    a.symbol: a
    for a in (
        _a("AAPL", "Apple Inc. Common Stock", "NASDAQ", "190.00"),
        _a("MSFT", "Microsoft Corporation Common Stock", "NASDAQ", "420.00"),
        _a("NVDA", "NVIDIA Corporation Common Stock", "NASDAQ", "120.00"),
        _a("TSLA", "Tesla, Inc. Common Stock", "NASDAQ", "250.00"),
        _a("AMZN", "Amazon.com, Inc. Common Stock", "NASDAQ", "185.00"),
        _a("GOOGL", "Alphabet Inc. Class A Common Stock", "NASDAQ", "165.00"),
        _a("META", "Meta Platforms, Inc. Class A Common Stock", "NASDAQ", "520.00"),
        _a("AMD", "Advanced Micro Devices, Inc. Common Stock", "NASDAQ", "150.00"),
        _a("NFLX", "Netflix, Inc. Common Stock", "NASDAQ", "650.00"),
        _a("INTC", "Intel Corporation Common Stock", "NASDAQ", "22.00"),
        _a("COST", "Costco Wholesale Corporation Common Stock", "NASDAQ", "880.00"),
        _a("PEP", "PepsiCo, Inc. Common Stock", "NASDAQ", "165.00"),
        _a("SPY", "SPDR S&P 500 ETF Trust", "ARCA", "560.00"),
        _a("QQQ", "Invesco QQQ Trust, Series 1", "NASDAQ", "480.00"),
        _a("IWM", "iShares Russell 2000 ETF", "ARCA", "215.00"),
        _a("DIA", "SPDR Dow Jones Industrial Average ETF Trust", "ARCA", "410.00"),
        _a("JPM", "JPMorgan Chase & Co. Common Stock", "NYSE", "210.00"),
        _a("BAC", "Bank of America Corporation Common Stock", "NYSE", "40.00"),
        _a("V", "Visa Inc.", "NYSE", "280.00"),
        _a("MA", "Mastercard Incorporated Common Stock", "NYSE", "470.00"),
        _a("DIS", "Walt Disney Company (The) Common Stock", "NYSE", "95.00"),
        _a("KO", "Coca-Cola Company (The) Common Stock", "NYSE", "62.00"),
        _a("WMT", "Walmart Inc. Common Stock", "NYSE", "80.00"),
        _a("XOM", "Exxon Mobil Corporation Common Stock", "NYSE", "115.00"),
        _a("PFE", "Pfizer, Inc. Common Stock", "NYSE", "28.00"),
        _a("BA", "Boeing Company (The) Common Stock", "NYSE", "170.00"),
        _a("ORCL", "Oracle Corporation Common Stock", "NYSE", "170.00"),
        _a("UBER", "Uber Technologies, Inc. Common Stock", "NYSE", "72.00"),
        # Awkward on purpose: whole shares only, hard to borrow, not shortable.
        _a(
            "GME",
            "GameStop Corporation Common Stock",
            "NYSE",
            "24.00",
            fractionable=False,
            shortable=False,
            easy_to_borrow=False,
        ),
        _a(
            "RIVN",
            "Rivian Automotive, Inc. Class A Common Stock",
            "NASDAQ",
            "12.00",
            fractionable=False,
            easy_to_borrow=False,
            marginable=False,
        ),
        # Delisted: known to the asset endpoint but refuses orders.
        _a(
            "TWTR",
            "Twitter, Inc. Common Stock",
            "NYSE",
            "53.70",
            tradable=False,
            status="inactive",
            fractionable=False,
            shortable=False,
            easy_to_borrow=False,
            marginable=False,
        ),
        # Crypto pairs (ORD-04): fractionable, never shortable, traded around the clock.
        _a(
            "BTC/USD",
            "Bitcoin / US Dollar",
            "CRYPTO",
            "60000.00",
            shortable=False,
            easy_to_borrow=False,
            marginable=False,
            asset_class=CRYPTO,
        ),
        _a(
            "ETH/USD",
            "Ethereum / US Dollar",
            "CRYPTO",
            "3000.00",
            shortable=False,
            easy_to_borrow=False,
            marginable=False,
            asset_class=CRYPTO,
        ),
    )
}

_BY_ID: dict[str, Asset] = {str(a.id): a for a in CATALOG.values()}
_BY_POSITION_SYMBOL: dict[str, Asset] = {a.position_symbol: a for a in CATALOG.values()}


def find_asset(symbol_or_id: str) -> Asset | None:
    """Look an asset up by symbol (any case, BTC/USD also as BTCUSD) or by asset id."""
    key = symbol_or_id.upper()
    return CATALOG.get(key) or _BY_POSITION_SYMBOL.get(key) or _BY_ID.get(symbol_or_id.lower())
