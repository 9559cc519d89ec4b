"""History and market views of one account (HIST-01..04): portfolio history, activities,
bars and quotes, the symbol search, the watchlist and the market clock.

``MarketService`` is what the schema and the chat call; every method takes an
``Account`` its caller resolved in the owner's tenant scope, so another
person's account never gets this far (ISO-02).
"""

from api.markets.clock import MarketClock
from api.markets.history import PortfolioHistory, PortfolioPoint
from api.markets.service import MarketService
from api.markets.symbols import SymbolDirectory
from api.markets.watchlist import WatchlistEntry, WatchlistView

__all__ = [
    "MarketClock",
    "MarketService",
    "PortfolioHistory",
    "PortfolioPoint",
    "SymbolDirectory",
    "WatchlistEntry",
    "WatchlistView",
]
