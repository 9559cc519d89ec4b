"""Queries of the history and market views (HIST-01..04): the selected account only.

Each resolves the account in the caller's tenant scope first (another
person's id is NOT_FOUND, ISO-02), then calls one method of api.markets.
"""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.context import Info
from schema.history.types import (
    Activity,
    Bar,
    Instrument,
    MarketClock,
    PortfolioHistory,
    Quote,
    Watchlist,
)
from schema.limits import list_limit
from schema.permissions import IsAuthenticated

# The symbol search answers a handful: it feeds a search box, not a listing.
MAX_SYMBOLS = 50


@strawberry.type
class HistoryQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="period: 1D, 1W, 1M, 3M, 6M or 1A (a year); timeframe: 1Min, 5Min, 15Min, "
        "1H or 1D (default: one that suits the period). Default account: the active one.",
    )
    async def portfolio_history(
        self,
        info: Info,
        account_id: UUID | None = None,
        period: str = "1M",
        timeframe: str | None = None,
    ) -> PortfolioHistory:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        found = await services.markets.portfolio_history(account, period, timeframe)
        return PortfolioHistory.of(found)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Newest first.")
    async def activities(
        self, info: Info, account_id: UUID | None = None, limit: int = 50
    ) -> list[Activity]:
        user_id = info.context.require_principal().user_id
        limit = list_limit(limit)
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        found = await services.markets.activities(account, limit)
        return [Activity.of(a) for a in found]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The newest `limit` bars, oldest first; timeframe 1Min, 5Min, 15Min, 1Hour, "
        "1Day or 1Week. Market data is read with the account's keys.",
    )
    async def bars(
        self,
        info: Info,
        symbol: str,
        account_id: UUID | None = None,
        timeframe: str = "1Day",
        limit: int = 100,
    ) -> list[Bar]:
        user_id = info.context.require_principal().user_id
        limit = list_limit(limit)
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        found = await services.markets.bars(account, symbol, timeframe, limit)
        return [Bar.of(b) for b in found]

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def quote(self, info: Info, symbol: str, account_id: UUID | None = None) -> Quote:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        return Quote.of(await services.markets.quote(account, symbol))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description='Symbols by ticker or company name ("apple" finds AAPL), best first.',
    )
    async def symbols(
        self, info: Info, query: str, account_id: UUID | None = None, limit: int = 10
    ) -> list[Instrument]:
        user_id = info.context.require_principal().user_id
        limit = min(list_limit(limit), MAX_SYMBOLS)
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        found = await services.markets.search(account, query, limit)
        return [Instrument.of(a) for a in found]

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def watchlist(self, info: Info, account_id: UUID | None = None) -> Watchlist:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        return Watchlist.of(await services.markets.watchlist(account))

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def market_clock(self, info: Info, account_id: UUID | None = None) -> MarketClock:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        return MarketClock.of(await services.markets.clock(account))
