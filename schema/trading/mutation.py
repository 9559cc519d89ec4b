"""Mutations of the trading domain (TRADE-02, TRADE-05): thin over api.trading."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import strawberry

from api.trading.orders import parse_symbol
from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.trading.types import Order, PlaceOrderInput


@strawberry.type
class TradingMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Paper orders are sent at once; live orders answer CONFIRMATION_REQUIRED "
        "with extensions.proposal, to be sent by confirmOrder.",
    )
    async def place_order(self, info: Info, input: PlaceOrderInput) -> Order:
        user_id = info.context.require_principal().user_id
        intent = input.intent()
        services = info.context.services
        account = await services.accounts.resolve(user_id, input.account_id)
        placed = await services.trading.place_order(account, intent, input.idempotency_key)
        return Order.of(placed)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Close a position: all of it, qty of it or percentage (0-100) of it, as a "
        "market order. It only reduces the position, so it goes even on a halted account.",
    )
    async def close_position(
        self,
        info: Info,
        symbol: str,
        account_id: UUID | None = None,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> Order:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        closed = await services.trading.close_position(
            account, parse_symbol(symbol), qty=qty, percentage=percentage
        )
        return Order.of(closed)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def cancel_order(self, info: Info, order_id: str, account_id: UUID | None = None) -> bool:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        await services.trading.cancel_order(account, order_id)
        return True

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Send a proposal's order, once; it is checked again first.",
    )
    async def confirm_order(self, info: Info, proposal_id: UUID) -> Order:
        user_id = info.context.require_principal().user_id
        return Order.of(await info.context.services.trading.confirm(user_id, proposal_id))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def dismiss_proposal(self, info: Info, proposal_id: UUID) -> bool:
        user_id = info.context.require_principal().user_id
        await info.context.services.trading.dismiss(user_id, proposal_id)
        return True
