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
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from api.accounts import Account, AccountService
from api.auth.passkeys import Approval, PasskeyService
from api.auth.security_log import SecurityEventKind, record
from api.broker import (
    BrokerError,
    BrokerGateway,
    BrokerOrder,
    BrokerPosition,
    OrderRequest,
    ReplaceRequest,
)
from api.broker.models import OrderStatusFilter
from api.db import Database
from api.errors import BadUserInput, ConfirmationRequired, NotFound
from api.trading import guard_audit, limits, proposals
from api.trading.bulk import BulkActions, BulkOutcome
from api.trading.guards import Market, Source, Verdict, judge
from api.trading.orders import (
    OrderIntent,
    OrderType,
    Replacement,
    Side,
    TimeInForce,
    replaced_intent,
)
from api.trading.placement import Placement, idempotent_client_order_id
from api.trading.proposals import Proposal, ProposalKind
from api.trading.validation import DEFAULT_PRICE_CHECK_PERCENT, CheckedOrder, check_order

log = logging.getLogger(__name__)


def proposal_json(proposal: Proposal) -> dict[str, object]:
    """The proposal as the client sees it (extensions.proposal of CONFIRMATION_REQUIRED)."""
    intent = proposal.intent
    # Only one order asks for confirmation this way; cancel-all and close-all come by the chat.
    assert intent is not None, "an order proposal"
    money = {
        k: (format(v, "f") if v is not None else None)
        for k, v in {
            "qty": intent.qty,
            "notional": intent.notional,
            "limitPrice": intent.limit_price,
            "stopPrice": intent.stop_price,
            "trailPrice": intent.trail_price,
            "trailPercent": intent.trail_percent,
            "takeProfitLimitPrice": intent.take_profit_limit_price,
            "stopLossStopPrice": intent.stop_loss_stop_price,
            "stopLossLimitPrice": intent.stop_loss_limit_price,
        }.items()
    }
    return {
        "id": str(proposal.id),
        "accountId": str(proposal.account_id),
        "symbol": intent.symbol,
        "side": intent.side.name,
        "type": intent.type.name,
        "orderClass": intent.order_class.name,
        "kind": proposal.kind.name,
        "targets": list(proposal.targets),
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


def confirmation_approval(proposal: Proposal) -> Approval:
    """What a passkey approves when it confirms `proposal`: its id, account and content."""
    return Approval(
        "confirm-order",
        {
            "id": str(proposal.id),
            "accountId": str(proposal.account_id),
            "kind": proposal.kind.value,
            "order": None if proposal.intent is None else proposal.intent.to_json(),
            "targets": list(proposal.targets),
            "summary": proposal.summary,
            "estimatedCost": str(proposal.estimated_cost),
        },
    )


class TradingService:
    def __init__(
        self,
        database: Database,
        gateway: BrokerGateway,
        accounts: AccountService,
        passkeys: PasskeyService,
        *,
        price_check_percent: Decimal = DEFAULT_PRICE_CHECK_PERCENT,
    ) -> None:
        self._database = database
        self._price_check_percent = price_check_percent
        self._gateway = gateway
        self._accounts = accounts
        self._passkeys = passkeys
        self._placement = Placement(database, gateway)
        # Cancel-all and close-all proposals (api/trading/bulk.py); closes go through here.
        self.bulk = BulkActions(database, gateway, self._close_whole)

    async def positions(self, account: Account) -> list[BrokerPosition]:
        """TRADE-03: this account's positions only."""
        return await self._gateway.positions(account.broker)

    async def orders(
        self, account: Account, status: OrderStatusFilter, limit: int
    ) -> list[BrokerOrder]:
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
        checked = await self._check(account, intent)
        return await self._store_proposal(account, checked, source, message_id)

    async def _check(self, account: Account, intent: OrderIntent) -> CheckedOrder:
        return await check_order(
            self._gateway, account.broker, account.record, intent, self._price_check_percent
        )

    async def _store_proposal(
        self,
        account: Account,
        checked: CheckedOrder,
        source: Source,
        message_id: UUID | None = None,
        replaces: str | None = None,
    ) -> Proposal:
        verdict = await self._judge(account, checked.intent.request(), checked.market, source)
        async with self._database.tenant(account.owner_id) as conn:
            stored = await proposals.store(conn, account.record, checked, message_id, replaces)
        return replace(stored, headroom=verdict.headroom)

    @staticmethod
    def _confirmation(proposal: Proposal, reason: str | None = None) -> ConfirmationRequired:
        why = f"{reason}. " if reason else ""
        return ConfirmationRequired(
            f"{why}Confirm to send: {proposal.summary}",
            proposal={**proposal_json(proposal), "reason": reason},
        )

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
    ) -> BrokerOrder:
        """Paper orders go at once; live ones answer CONFIRMATION_REQUIRED with a proposal.

        The same ``idempotency_key`` on the same account never places a second order
        (TRADE-05): a repeat answers with the first one.
        """
        checked = await self._check(account, intent)
        if account.environment == "LIVE" or checked.price_check is not None:
            # A price that looks like a slip is confirmed first, on paper too (ORD-01).
            proposal = await self._store_proposal(account, checked, Source.TICKET)
            raise self._confirmation(proposal, checked.price_check)
        request = intent.request()
        judged = replace(request, client_order_id=_counted_as(account, idempotency_key))
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
        client_order_id: str | None = None,
    ) -> BrokerOrder:
        """ORD-03: close all, `qty` or `percentage` of a position; judged like every order.

        Closing only makes a position smaller, so it passes the limits and the
        halt (RISK-04); it is still judged and recorded like any other order.
        A repeated `client_order_id` answers the close first sent under it.
        """
        request = await self._placement.closing_request(
            account.broker,
            symbol,
            qty=qty,
            percentage=percentage,
            client_order_id=client_order_id or str(uuid4()),
        )
        market = await self._market(account, request.symbol)
        verdict = await self._judge(account, request, market, Source.CLOSE)
        return await self._placement.place(account.broker, request, verdict)

    async def close(
        self,
        account: Account,
        symbol: str,
        *,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> BrokerOrder:
        """ORD-03 for a person: on a live account the close waits for `confirm` like any
        order (CONFIRMATION_REQUIRED with the proposal); on paper it goes at once."""
        if account.environment != "LIVE":
            return await self.close_position(account, symbol, qty=qty, percentage=percentage)
        request = await self._placement.closing_request(
            account.broker, symbol, qty=qty, percentage=percentage
        )
        intent = OrderIntent(
            symbol=request.symbol,
            side=Side(request.side),
            type=OrderType.MARKET,
            qty=request.qty,
            time_in_force=TimeInForce(request.time_in_force),
        )
        proposal = await self._store_proposal(
            account, await self._check(account, intent), Source.CLOSE
        )
        raise self._confirmation(proposal)

    async def replace_order(
        self,
        account: Account,
        order_id: str,
        change: Replacement,
        idempotency_key: str | None = None,
    ) -> BrokerOrder:
        """ORD-02: replace an open order of this account; live replaces wait for `confirm`.

        The order as it will be is checked like a new one (shape, account, price) and
        judged by the limits (RISK-01); another account's order, or one no longer
        open, is refused before anything is sent.
        """
        order = await self._open_order(account, order_id)
        checked = await self._check(account, replaced_intent(order, change))
        if account.environment == "LIVE" or checked.price_check is not None:
            proposal = await self._store_proposal(
                account, checked, Source.REPLACE, replaces=order.id
            )
            raise self._confirmation(proposal, checked.price_check)
        request = checked.intent.request()
        judged = replace(request, client_order_id=_counted_as(account, idempotency_key))
        verdict = await self._judge(account, judged, checked.market, Source.REPLACE)
        return await self._placement.replace(
            account.broker,
            order.id,
            _replace_request(change),
            request,
            verdict,
            idempotency_key=idempotency_key,
        )

    async def propose_replacement(
        self,
        account: Account,
        order_id: str,
        change: Replacement,
        message_id: UUID | None = None,
    ) -> Proposal:
        """ORD-02 from the chat: the replacement checked like `replace_order` and stored as a
        proposal (kind REPLACE) for `confirm`, never sent here (TRADE-02)."""
        order = await self._open_order(account, order_id)
        checked = await self._check(account, replaced_intent(order, change))
        return await self._store_proposal(
            account, checked, Source.CHAT, message_id, replaces=order.id
        )

    async def _open_order(self, account: Account, order_id: str) -> BrokerOrder:
        try:
            order = await self._gateway.order(account.broker, order_id)
        except BrokerError as error:
            if error.status == 404:
                raise NotFound("No such order on this account") from None
            raise
        if order.status not in _REPLACEABLE:
            raise BadUserInput(
                f"This order is {order.status.replace('_', ' ')}; only an open order can be "
                "changed",
                field="orderId",
            )
        return order

    async def _close_whole(
        self, account: Account, symbol: str, client_order_id: str
    ) -> BrokerOrder:
        return await self.close_position(account, symbol, client_order_id=client_order_id)

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

    async def confirm(
        self,
        user_id: UUID,
        proposal_id: UUID,
        *,
        device: Mapping[str, Any] | None = None,
        passkey: object | None = None,
    ) -> BrokerOrder | BulkOutcome:
        """Send a proposal's order, once; re-validated against the account as it is now.

        On a live account a person with a passkey approves this very proposal with it
        (KEY-02): without `passkey` the answer is PASSKEY_REQUIRED with the options to
        sign, and a wrong, spent or expired one is FORBIDDEN; nothing is claimed or sent.

        A cancel-all or close-all proposal is carried out instead (api/trading/bulk.py).
        Confirming on a live account joins the owner's security log, with `device`
        (api.auth.security_log.device_detail) when a person confirmed from one (ADM-02).
        """
        proposal = await self.proposal(user_id, proposal_id)
        if proposal.status != "PENDING":
            raise BadUserInput(f"This proposal is {proposal.status.lower()}", field="proposalId")
        account = await self._accounts.get(user_id, proposal.account_id)
        if account.environment == "LIVE":
            approval = confirmation_approval(proposal)
            await self._passkeys.require_passkey(user_id, approval, passkey, "send this order")
        # Claimed before it is checked: of concurrent confirmations only the winner asks
        # the broker anything, the others are refused by the database alone.
        async with self._database.tenant(user_id) as conn:
            if not await proposals.claim(proposal_id):
                raise BadUserInput("This proposal was already confirmed or has expired")
            if account.environment == "LIVE":
                detail = {
                    **(device or {}),
                    "accountId": str(account.id),
                    "nickname": account.record.nickname,
                    "proposalId": str(proposal.id),
                    "summary": proposal.summary,
                }
                await record(conn, user_id, SecurityEventKind.LIVE_ORDER_CONFIRMED, detail)
        if proposal.intent is None:
            return await self.bulk.carry_out(account, proposal)
        request = proposal.intent.request(str(proposal.id))
        try:
            checked = await check_order(
                self._gateway, account.broker, account.record, proposal.intent
            )
            verdict = await self._judge(account, request, checked.market, Source.CONFIRM)
            if proposal.kind is ProposalKind.REPLACE:
                order = await self._placement.replace(
                    account.broker,
                    proposal.targets[0],
                    _replace_request(_replacement_of(proposal.intent)),
                    request,
                    verdict,
                )
            else:
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


# Alpaca replaces an order while it works (or waits as a held leg), not after (ORD-02).
_REPLACEABLE = frozenset({"new", "partially_filled", "held", "accepted", "pending_new"})


def _replace_request(change: Replacement) -> ReplaceRequest:
    return ReplaceRequest(
        qty=change.qty,
        limit_price=change.limit_price,
        stop_price=change.stop_price,
        trail=change.trail,
        time_in_force=change.time_in_force.value if change.time_in_force else None,
    )


def _replacement_of(intent: OrderIntent) -> Replacement:
    """A confirmed replace sends the order's terms as they will be: the same change."""
    return Replacement(
        qty=intent.qty,
        limit_price=intent.limit_price,
        stop_price=intent.stop_price if intent.type is not OrderType.TRAILING_STOP else None,
        trail=intent.trail_price or intent.trail_percent,
        time_in_force=intent.time_in_force,
    )


def _counted_as(account: Account, idempotency_key: str | None) -> str | None:
    """The client order id the limits count an order under: the order's own id when it has
    an idempotency key, so a repeat of the key is not counted twice."""
    if idempotency_key is None:
        return None
    return idempotent_client_order_id(account.id, idempotency_key)
