"""Positions, orders and order placement on one of the user's accounts.

Guarantees: the caller resolves the account once, in the user's tenant scope
(`AccountService.resolve`: another user's id is NOT_FOUND and nothing reaches
the broker), and passes that `Account` down; `confirm` reads it itself, with
the proposal. Every order is checked against the account's state (TRADE-02);
live orders and chat proposals wait for `confirm`, whose client order id is
the proposal id, so an order is sent at most once (TRADE-05); placement audits
every attempt.
"""

from __future__ import annotations

from uuid import UUID

from api.accounts import Account, AccountService
from api.broker import BrokerGateway, Order, Position
from api.broker.models import OrderStatusFilter
from api.db import Database
from api.errors import BadUserInput, ConfirmationRequired, NotFound
from api.trading import proposals
from api.trading.orders import OrderIntent
from api.trading.placement import Placement
from api.trading.proposals import Proposal
from api.trading.validation import check_order


def proposal_json(proposal: Proposal) -> dict[str, object]:
    """The proposal as the client sees it (extensions.proposal of CONFIRMATION_REQUIRED)."""
    intent = proposal.intent
    money = {
        k: (format(v, "f") if v is not None else None)
        for k, v in {
            "qty": intent.qty,
            "notional": intent.notional,
            "limitPrice": intent.limit_price,
            "stopPrice": intent.stop_price,
        }.items()
    }
    return {
        "id": str(proposal.id),
        "accountId": str(proposal.account_id),
        "symbol": intent.symbol,
        "side": intent.side.name,
        "type": intent.type.name,
        "timeInForce": intent.time_in_force.name,
        **money,
        "summary": proposal.summary,
        "estimatedCost": str(proposal.estimated_cost),
        "environment": proposal.environment,
        "expiresAt": proposal.expires_at.isoformat(),
        "status": proposal.status,
        "orderId": proposal.broker_order_id,
    }


class TradingService:
    def __init__(
        self, database: Database, gateway: BrokerGateway, accounts: AccountService
    ) -> None:
        self._database = database
        self._gateway = gateway
        self._accounts = accounts
        self._placement = Placement(database, gateway)

    async def positions(self, account: Account) -> list[Position]:
        """TRADE-03: this account's positions only."""
        return await self._gateway.positions(account.broker)

    async def orders(self, account: Account, status: OrderStatusFilter, limit: int) -> list[Order]:
        """TRADE-04: this account's orders only, newest first."""
        return await self._gateway.orders(account.broker, status, limit)

    async def propose(
        self, account: Account, intent: OrderIntent, message_id: UUID | None = None
    ) -> Proposal:
        """A checked order waiting for confirmation (chat, and every live order)."""
        checked = await check_order(self._gateway, account.broker, account.record, intent)
        async with self._database.tenant(account.owner_id) as conn:
            return await proposals.store(conn, account.record, checked, message_id)

    async def place_order(self, account: Account, intent: OrderIntent) -> Order:
        """Paper orders go at once; live ones answer CONFIRMATION_REQUIRED with a proposal."""
        if account.environment == "LIVE":
            proposal = await self.propose(account, intent)
            raise ConfirmationRequired(
                f"Confirm to send: {proposal.summary}", proposal=proposal_json(proposal)
            )
        await check_order(self._gateway, account.broker, account.record, intent)
        return await self._placement.place(account.broker, intent.request())

    async def proposal(self, user_id: UUID, proposal_id: UUID) -> Proposal:
        async with self._database.tenant(user_id):
            found = await proposals.load(proposal_id)
        if found is None:
            raise NotFound("No such order proposal")
        return found

    async def confirm(self, user_id: UUID, proposal_id: UUID) -> Order:
        """Send a proposal's order, once; re-validated against the account as it is now."""
        proposal = await self.proposal(user_id, proposal_id)
        if proposal.status != "PENDING":
            raise BadUserInput(f"This proposal is {proposal.status.lower()}", field="proposalId")
        account = await self._accounts.get(user_id, proposal.account_id)
        await check_order(self._gateway, account.broker, account.record, proposal.intent)
        async with self._database.tenant(user_id):
            if not await proposals.claim(proposal_id):
                raise BadUserInput("This proposal was already confirmed or has expired")
        request = proposal.intent.request(str(proposal.id))
        try:
            order = await self._placement.place(account.broker, request)
        except BaseException:
            # not placed (or unknown): the same id may be confirmed again, never twice placed
            async with self._database.tenant(user_id):
                await proposals.set_status(proposal_id, "PENDING")
            raise
        async with self._database.tenant(user_id):
            await proposals.set_status(proposal_id, "CONFIRMED", order.id)
        return order

    async def dismiss(self, user_id: UUID, proposal_id: UUID) -> None:
        proposal = await self.proposal(user_id, proposal_id)
        if proposal.status != "PENDING":
            raise BadUserInput(f"This proposal is {proposal.status.lower()}", field="proposalId")
        async with self._database.tenant(user_id):
            await proposals.set_status(proposal_id, "DISMISSED")

    async def cancel_order(self, account: Account, order_id: str) -> None:
        await self._gateway.cancel_order(account.broker, order_id)

    async def cancel_all(self, account: Account) -> list[str]:
        open_orders = await self._gateway.orders(account.broker, "open", 500)
        for order in open_orders:
            await self._gateway.cancel_order(account.broker, order.id)
        return [order.id for order in open_orders]
