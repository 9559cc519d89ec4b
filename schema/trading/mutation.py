"""Mutations of the trading domain (TRADE-02, TRADE-05): thin over api.trading."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import strawberry

from api.auth.security_log import device_detail
from api.broker import BrokerOrder
from api.trading.orders import parse_symbol
from schema.auth.passkeys import PasskeyAnswer
from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.trading.types import Order, PlaceOrderInput, ReplaceOrderInput


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
        "market order. It only reduces the position, so it goes even on a halted account. "
        "On a live account it answers CONFIRMATION_REQUIRED with extensions.proposal.",
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
        closed = await services.trading.close(
            account, parse_symbol(symbol), qty=qty, percentage=percentage
        )
        return Order.of(closed)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Replace an open order (ORD-02): the answer is the new order, which "
        "`replaces` the old one. Live replaces answer CONFIRMATION_REQUIRED with "
        "extensions.proposal (kind REPLACE), to be sent by confirmOrder.",
    )
    async def replace_order(
        self, info: Info, order_id: str, input: ReplaceOrderInput, account_id: UUID | None = None
    ) -> Order:
        user_id = info.context.require_principal().user_id
        change = input.replacement()
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        replaced = await services.trading.replace_order(
            account, order_id, change, input.idempotency_key
        )
        return Order.of(replaced)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def cancel_order(self, info: Info, order_id: str, account_id: UUID | None = None) -> bool:
        user_id = info.context.require_principal().user_id
        services = info.context.services
        account = await services.accounts.resolve(user_id, account_id)
        await services.trading.cancel_order(account, order_id)
        return True

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Send a proposal's order, once; it is checked again first. A CANCEL_ALL or "
        "CLOSE_ALL proposal is carried out instead and answers null (its status says so). "
        "On a live account a person with a passkey confirms with it: PASSKEY_REQUIRED carries "
        "the options, and `passkey` the answer.",
    )
    async def confirm_order(
        self,
        info: Info,
        proposal_id: UUID,
        passkey: PasskeyAnswer = None,
    ) -> Order | None:
        context = info.context
        device = device_detail(context.user_agent, context.client_address)
        user_id = context.require_principal().user_id
        done = await context.services.trading.confirm(
            user_id, proposal_id, device=device, passkey=passkey
        )
        return Order.of(done) if isinstance(done, BrokerOrder) else None

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def dismiss_proposal(self, info: Info, proposal_id: UUID) -> bool:
        user_id = info.context.require_principal().user_id
        await info.context.services.trading.dismiss(user_id, proposal_id)
        return True
