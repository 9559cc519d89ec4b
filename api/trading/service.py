"""Positions, orders and order placement on one of the user's accounts.

Guarantees: the account is resolved in the user's tenant scope first (another
user's id is NOT_FOUND and nothing reaches the broker); every order is checked
against the account's state (TRADE-02); live orders and chat proposals wait
for `confirm`, whose client order id is the proposal id, so an order is sent
at most once (TRADE-05); the gateway audits every attempt.
"""

from __future__ import annotations

from uuid import UUID

from api.accounts import AccountRecord, AccountService
from api.broker import BrokerGateway, Order, Position
from api.broker.models import OrderStatusFilter
from api.db import Database
from api.errors import BadUserInput, ConfirmationRequired, NotFound
from api.trading import proposals
from api.trading.proposals import Proposal
from api.trading.tickets import OrderTicket
from api.trading.validation import check_order


def proposal_json(proposal: Proposal) -> dict[str, object]:
    """The proposal as the client sees it (extensions.proposal of CONFIRMATION_REQUIRED)."""
    ticket = proposal.ticket
    money = {
        k: (str(v) if v is not None else None)
        for k, v in {
            "qty": ticket.qty,
            "notional": ticket.notional,
            "limitPrice": ticket.limit_price,
            "stopPrice": ticket.stop_price,
        }.items()
    }
    return {
        "id": str(proposal.id),
        "accountId": str(proposal.account_id),
        "symbol": ticket.symbol,
        "side": ticket.side.upper(),
        "type": ticket.type.upper(),
        "timeInForce": ticket.time_in_force.upper(),
        **money,
        "summary": proposal.summary,
        "estimatedCost": str(proposal.estimated_cost),
        "environment": proposal.environment,
        "expiresAt": proposal.expires_at.isoformat(),
        "status": proposal.status,
        "orderId": proposal.broker_order_id,
    }


class TradingService:
    def __init__(self, database: Database, gateway: BrokerGateway, accounts: AccountService):
        self._database = database
        self._gateway = gateway
        self._accounts = accounts

    async def positions(self, user_id: UUID, account_id: UUID | None) -> list[Position]:
        """TRADE-03: the selected account's positions only."""
        return await self._gateway.positions(await self._accounts.ref(user_id, account_id))

    async def orders(
        self, user_id: UUID, account_id: UUID | None, status: OrderStatusFilter, limit: int
    ) -> list[Order]:
        """TRADE-04: the selected account's orders only, newest first."""
        if not 1 <= limit <= 500:
            raise BadUserInput("limit must be between 1 and 500", field="limit")
        ref = await self._accounts.ref(user_id, account_id)
        return await self._gateway.orders(ref, status, limit)

    async def propose(
        self,
        user_id: UUID,
        account: AccountRecord,
        ticket: OrderTicket,
        message_id: UUID | None = None,
    ) -> Proposal:
        """A checked order waiting for confirmation (chat, and every live order)."""
        ref = await self._accounts.ref(user_id, account.id)
        checked = await check_order(self._gateway, ref, account, ticket)
        async with self._database.tenant(user_id) as conn:
            return await proposals.store(conn, account, checked, message_id)

    async def place_order(
        self, user_id: UUID, account_id: UUID | None, ticket: OrderTicket
    ) -> Order:
        """Paper orders go at once; live ones answer CONFIRMATION_REQUIRED with a proposal."""
        account = await self._accounts.resolve(user_id, account_id)
        if account.environment == "LIVE":
            proposal = await self.propose(user_id, account, ticket)
            raise ConfirmationRequired(
                f"Confirm to send: {proposal.summary}", proposal=proposal_json(proposal)
            )
        ref = await self._accounts.ref(user_id, account.id)
        await check_order(self._gateway, ref, account, ticket)
        return await self._gateway.place_order(ref, ticket.request())

    async def proposal(self, user_id: UUID, proposal_id: UUID) -> Proposal:
        async with self._database.tenant(user_id) as conn:
            found = await proposals.load(conn, proposal_id)
        if found is None:
            raise NotFound("No such order proposal")
        return found

    async def confirm(self, user_id: UUID, proposal_id: UUID) -> Order:
        """Send a proposal's order, once; re-validated against the account as it is now."""
        proposal = await self.proposal(user_id, proposal_id)
        if proposal.status != "PENDING":
            raise BadUserInput(f"This proposal is {proposal.status.lower()}", field="proposalId")
        account = await self._accounts.get(user_id, proposal.account_id)
        ref = await self._accounts.ref(user_id, account.id)
        await check_order(self._gateway, ref, account, proposal.ticket)
        async with self._database.tenant(user_id) as conn:
            if not await proposals.claim(conn, proposal_id):
                raise BadUserInput("This proposal was already confirmed or has expired")
        try:
            order = await self._gateway.place_order(ref, proposal.ticket.request(str(proposal.id)))
        except BaseException:
            # not placed (or unknown): the same id may be confirmed again, never twice placed
            async with self._database.tenant(user_id) as conn:
                await proposals.set_status(conn, proposal_id, "PENDING")
            raise
        async with self._database.tenant(user_id) as conn:
            await proposals.set_status(conn, proposal_id, "CONFIRMED", order.id)
        return order

    async def dismiss(self, user_id: UUID, proposal_id: UUID) -> None:
        proposal = await self.proposal(user_id, proposal_id)
        if proposal.status != "PENDING":
            raise BadUserInput(f"This proposal is {proposal.status.lower()}", field="proposalId")
        async with self._database.tenant(user_id) as conn:
            await proposals.set_status(conn, proposal_id, "DISMISSED")

    async def cancel_order(self, user_id: UUID, account_id: UUID | None, order_id: str) -> None:
        await self._gateway.cancel_order(await self._accounts.ref(user_id, account_id), order_id)

    async def cancel_all(self, user_id: UUID, account: AccountRecord) -> list[str]:
        ref = await self._accounts.ref(user_id, account.id)
        open_orders = await self._gateway.orders(ref, "open", 500)
        for order in open_orders:
            await self._gateway.cancel_order(ref, order.id)
        return [order.id for order in open_orders]
