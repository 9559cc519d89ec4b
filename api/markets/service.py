"""``MarketService``: the history and market views of one account (HIST-01..04).

Guarantees: every method takes an ``Account`` its caller resolved in the
owner's tenant scope (``AccountService.resolve``: another person's id is
NOT_FOUND before anything reaches the broker, ISO-02) and reaches the broker
only as that account. Nothing here touches the database or is kept per
person; the one cache is the public asset list (``SymbolDirectory``).
Arguments are checked before the broker is asked: an unknown period,
timeframe or symbol is BAD_USER_INPUT naming the argument.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from api.accounts import Account
from api.broker import BrokerAsset, BrokerGateway, BrokerQuote
from api.broker.market_models import BrokerActivity, BrokerBar
from api.broker.market_parse import MARKET_TIME_ZONE
from api.broker.models import AccountRef
from api.errors import BadUserInput
from api.markets import activities, watchlist
from api.markets.clock import MarketClock, market_clock
from api.markets.history import PortfolioHistory, period_of, timeframe_of, with_profit_and_loss
from api.markets.symbols import SymbolDirectory
from api.markets.watchlist import WatchlistEntry, WatchlistView
from api.trading.orders import parse_symbol

# Bar timeframes in the market data API's notation, with each bar's length in minutes.
BAR_TIMEFRAMES = {"1Min": 1, "5Min": 5, "15Min": 15, "1Hour": 60, "1Day": 1440, "1Week": 10080}
# Calendar time per minute of trading, roomy: 6.5 trading hours a day, 5 days a week.
_INTRADAY_SPREAD = 6
_DAILY_SPREAD = 1.6
_SLACK = timedelta(days=5)
_CALENDAR_LOOKBACK = timedelta(days=10)


class MarketService:
    def __init__(self, gateway: BrokerGateway) -> None:
        self._gateway = gateway
        self.symbols = SymbolDirectory(gateway)

    async def portfolio_history(
        self, account: Account, period: str, timeframe: str | None
    ) -> PortfolioHistory:
        """Equity over the period with profit and loss (HIST-01). A 1D period that is still
        empty (before the open) shows the previous trading day instead, and says so."""
        period = period_of(period)
        frame = timeframe_of(timeframe, period)
        ref = account.broker
        found = await self._gateway.market.portfolio_history(ref, period, frame)
        note = None
        if period == "1D" and not found.points:
            day = await self._previous_trading_day(ref)
            if day is not None:
                found = await self._gateway.market.portfolio_history(ref, period, frame, day)
                note = f"The market has not opened yet today: {day:%A %-d %B} is shown."
        return with_profit_and_loss(found, period, note)

    async def _previous_trading_day(self, ref: AccountRef) -> date | None:
        today = datetime.now(UTC).astimezone(MARKET_TIME_ZONE).date()
        days = await self._gateway.market.calendar(ref, today - _CALENDAR_LOOKBACK, today)
        earlier = [d for d in days if d.date < today]
        return earlier[-1].date if earlier else None

    async def activities(self, account: Account, limit: int) -> list[BrokerActivity]:
        """The newest ``limit`` activities (fills, dividends, fees ...), newest first."""
        return await activities.newest(self._gateway, account.broker, limit)

    async def bars(
        self, account: Account, symbol: str, timeframe: str, limit: int
    ) -> list[BrokerBar]:
        """The newest ``limit`` bars of a known symbol, oldest first (HIST-03)."""
        minutes = BAR_TIMEFRAMES.get(timeframe)
        if minutes is None:
            allowed = ", ".join(BAR_TIMEFRAMES)
            raise BadUserInput(f"timeframe must be one of {allowed}", field="timeframe")
        asset = await self.known(account, symbol)
        spread = _INTRADAY_SPREAD if minutes < 1440 else _DAILY_SPREAD
        start = datetime.now(UTC) - timedelta(minutes=minutes * limit * spread) - _SLACK
        return await self._gateway.market.bars(
            account.broker, asset.symbol, timeframe, start, limit
        )

    async def quote(self, account: Account, symbol: str) -> BrokerQuote:
        asset = await self.known(account, symbol)
        return await self._gateway.latest_quote(account.broker, asset.symbol)

    async def search(self, account: Account, query: str, limit: int) -> list[BrokerAsset]:
        """Symbols whose ticker or company name matches ``query``, best first."""
        return await self.symbols.search(account.broker, query, limit)

    async def known(self, account: Account, symbol: str) -> BrokerAsset:
        """The asset of ``symbol``, or BAD_USER_INPUT on ``symbol`` when the broker has none."""
        wanted = parse_symbol(symbol)
        asset = await self.symbols.find(account.broker, wanted)
        if asset is None:
            raise BadUserInput(f"{wanted} is not a known symbol", field="symbol")
        return asset

    async def watchlist(self, account: Account) -> WatchlistView:
        found = await watchlist.find(self._gateway, account.broker)
        return await self._view(account, found.symbols if found else ())

    async def add_to_watchlist(self, account: Account, symbol: str) -> WatchlistView:
        asset = await self.known(account, symbol)
        changed = await watchlist.add(self._gateway, account.broker, asset.symbol)
        return await self._view(account, changed.symbols)

    async def remove_from_watchlist(self, account: Account, symbol: str) -> WatchlistView:
        changed = await watchlist.remove(self._gateway, account.broker, parse_symbol(symbol))
        return await self._view(account, changed.symbols if changed else ())

    async def _view(self, account: Account, symbols: tuple[str, ...]) -> WatchlistView:
        # One batched quote call for the whole list (Alpaca's budget is ~200 calls a minute).
        quotes = await self._gateway.market.latest_quotes(account.broker, list(symbols))
        names = {a.symbol: a.name for a in await self.symbols.assets(account.broker)}
        entries = tuple(WatchlistEntry(s, names.get(s), quotes.get(s)) for s in symbols)
        return WatchlistView(watchlist.WATCHLIST_NAME, entries)

    async def clock(self, account: Account) -> MarketClock:
        """Open or closed, the next open and close, and whether today closes early (HIST-04)."""
        return await market_clock(self._gateway, account.broker)
