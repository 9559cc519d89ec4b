"""Queries of the trading domain (TRADE-03, TRADE-04): the selected account only.

`proposal(id)` reads one of the person's proposals as it stands now, for the page
a notification opens (PUSH-01); reading never confirms. Row-level security shows
only the caller's proposals, so another person's id is NOT_FOUND like an unknown
one (ISO-02).
"""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.context import Info
from schema.limits import list_limit
from schema.permissions import IsAuthenticated
from schema.trading.types import Order, OrderProposal, OrderStatusFilter, Position


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

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One of my order proposals as it stands now; reading it never confirms it.",
    )
    async def proposal(self, info: Info, id: UUID) -> OrderProposal:
        user_id = info.context.require_principal().user_id
        found = await info.context.services.trading.proposal(user_id, id)
        return OrderProposal.of(found)
