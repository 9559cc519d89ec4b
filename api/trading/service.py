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

import asyncio
import logging
from dataclasses import replace
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg

from api.accounts import Account, AccountService
from api.broker import BrokerGateway, Order, OrderRequest, Position
from api.broker.models import OrderStatusFilter
from api.db import Database
from api.errors import BadUserInput, ConfirmationRequired, NotFound
from api.trading import guard_audit, limits, proposals
from api.trading.guards import Market, Source, Verdict, judge
from api.trading.orders import OrderIntent
from api.trading.placement import Placement, idempotent_client_order_id
from api.trading.proposals import Proposal
from api.trading.validation import check_order

log = logging.getLogger(__name__)


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
        "headroom": list(proposal.headroom),
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
        self,
        account: Account,
        intent: OrderIntent,
        message_id: UUID | None = None,
        source: Source = Source.CHAT,
    ) -> Proposal:
        """A checked and judged order waiting for confirmation (chat, and every live order).

        A proposal the limits refuse is never stored (LIMIT_EXCEEDED, ACCOUNT_HALTED);
        an allowed one carries the verdict's headroom for the card (RISK-01).
        """
        checked = await check_order(self._gateway, account.broker, account.record, intent)
        verdict = await self._judge(account, intent.request(), checked.market, source)
        async with self._database.tenant(account.owner_id) as conn:
            stored = await proposals.store(conn, account.record, checked, message_id)
        return replace(stored, headroom=verdict.headroom)

    async def _judge(
        self, account: Account, request: OrderRequest, market: Market, source: Source
    ) -> Verdict:
        """The limits' verdict on `request` (RISK-01, RISK-02), recorded (RISK-05).

        Limits, the halt and the day's count are read from the database in the
        owner's tenant scope, the decision is recorded in the same transaction,
        and a refusal is raised after it committed, so it stays in the trail.
        """
        async with self._database.tenant(account.owner_id) as conn:
            controls = await limits.load(conn, account.id)
            sent = await limits.orders_today(conn, account.id, request.client_order_id)
            verdict = judge(
                account.id,
                request,
                controls.limits,
                halted=controls.halted,
                market=market,
                orders_today=sent,
            )
            await guard_audit.record_decision(conn, account.owner_id, verdict, source)
        return verdict.raise_if_refused()

    async def place_order(
        self, account: Account, intent: OrderIntent, idempotency_key: str | None = None
    ) -> Order:
        """Paper orders go at once; live ones answer CONFIRMATION_REQUIRED with a proposal.

        The same ``idempotency_key`` on the same account never places a second order
        (TRADE-05): a repeat answers with the first one.
        """
        if account.environment == "LIVE":
            proposal = await self.propose(account, intent, source=Source.TICKET)
            raise ConfirmationRequired(
                f"Confirm to send: {proposal.summary}", proposal=proposal_json(proposal)
            )
        checked = await check_order(self._gateway, account.broker, account.record, intent)
        request = intent.request()
        # The order's own id, so a repeat of an idempotency key is not counted twice.
        counted_as = (
            idempotent_client_order_id(account.id, idempotency_key)
            if idempotency_key is not None
            else None
        )
        judged = replace(request, client_order_id=counted_as)
        verdict = await self._judge(account, judged, checked.market, Source.TICKET)
        return await self._placement.place(
            account.broker, request, verdict, idempotency_key=idempotency_key
        )

    async def close_position(
        self,
        account: Account,
        symbol: str,
        *,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> Order:
        """ORD-03: close all, `qty` or `percentage` of a position; judged like every order.

        Closing only makes a position smaller, so it passes the limits and the
        halt (RISK-04); it is still judged and recorded like any other order.
        """
        request = await self._placement.closing_request(
            account.broker, symbol, qty=qty, percentage=percentage, client_order_id=str(uuid4())
        )
        market = await self._market(account, request.symbol)
        verdict = await self._judge(account, request, market, Source.CLOSE)
        return await self._placement.place(account.broker, request, verdict)

    async def _market(self, account: Account, symbol: str) -> Market:
        """What the limits need to judge an order that `check_order` did not check."""
        snapshot, positions, quote = await asyncio.gather(
            self._gateway.snapshot(account.broker),
            self._gateway.positions(account.broker),
            self._gateway.latest_quote(account.broker, symbol),
            return_exceptions=True,
        )
        # Whatever could not be read stays unknown, and a guard that needs it refuses.
        return Market(
            snapshot=None if isinstance(snapshot, BaseException) else snapshot,
            positions=() if isinstance(positions, BaseException) else positions,
            quote=None if isinstance(quote, BaseException) else quote,
        )

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
        # Claimed before it is checked: of concurrent confirmations only the winner asks
        # the broker anything, the others are refused by the database alone.
        async with self._database.tenant(user_id):
            if not await proposals.claim(proposal_id):
                raise BadUserInput("This proposal was already confirmed or has expired")
        request = proposal.intent.request(str(proposal.id))
        try:
            checked = await check_order(
                self._gateway, account.broker, account.record, proposal.intent
            )
            verdict = await self._judge(account, request, checked.market, Source.CONFIRM)
            order = await self._placement.place(account.broker, request, verdict)
        except BaseException:
            # not placed (or unknown): the same id may be confirmed again, never twice placed
            async with self._database.tenant(user_id):
                await proposals.set_status(proposal_id, "PENDING")
            raise
        try:
            async with self._database.tenant(user_id):
                await proposals.set_status(proposal_id, "CONFIRMED", order.id)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            # The order exists: the person is told so, not "internal error". The proposal
            # stays claimed (CONFIRMED), so it can never be sent again; only its link to
            # the order is missing, and the audit row names the order.
            log.error(
                "proposal %s placed order %s but was not linked to it: %s",
                proposal_id,
                order.id,
                type(error).__name__,
            )
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
