"""Queries of the trading domain (TRADE-03, TRADE-04): the selected account only."""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.context import Info
from schema.limits import list_limit
from schema.permissions import IsAuthenticated
from schema.trading.types import Order, OrderStatusFilter, Position


@strawberry.type
class TradingQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Default: active account.")
    async def positions(self, info: Info, account_id: UUID | None = None) -> list[Position]:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        found = await services.trading.positions(account)
        return [Position.of(p) for p in found]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Newest first.")
    async def orders(
        self,
        info: Info,
        account_id: UUID | None = None,
        status: OrderStatusFilter = OrderStatusFilter.OPEN,
        limit: int = 50,
    ) -> list[Order]:
        user_id = info.context.require_principal().user_id
        limit = list_limit(limit)
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        found = await services.trading.orders(account, status.value, limit)
        return [Order.of(o) for o in found]
