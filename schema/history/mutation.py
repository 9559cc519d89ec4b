"""Mutations of the history and market views: the account's watchlist (kept at the broker)."""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.context import Info
from schema.history.types import Watchlist
from schema.permissions import IsAuthenticated


@strawberry.type
class HistoryMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="An unknown symbol is BAD_USER_INPUT."
    )
    async def add_to_watchlist(
        self, info: Info, symbol: str, account_id: UUID | None = None
    ) -> Watchlist:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        return Watchlist.of(await services.markets.add_to_watchlist(account, symbol))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def remove_from_watchlist(
        self, info: Info, symbol: str, account_id: UUID | None = None
    ) -> Watchlist:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        return Watchlist.of(await services.markets.remove_from_watchlist(account, symbol))
