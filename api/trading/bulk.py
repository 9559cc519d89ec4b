"""Cancel every open order, close every position: proposals confirmed like any order.

"Cancel all" and "sell everything" change many orders at once, so the chat
proposes them as it proposes orders (TRADE-02,
docs/architecture.md#decision-4-the-model-never-holds-the-steering-wheel): on a
live account they always wait for `confirmOrder`, on paper unless the owner
lets the chat's proposals through. A proposal lists what it covers when it is
made (the open orders' ids, the positions' symbols) and confirming acts on
exactly those, so what the person confirmed is what happens: an order placed
after the proposal is not cancelled, a position opened after it is not closed.

Confirming cancels each listed order that is still open and writes the
cancellations to the guard audit (RISK-05); or closes each listed position in
full, each close judged by the guard like any order (a close only reduces, so
it passes the limits and the halt: RISK-04), under a client order id made from
the proposal and the symbol, so confirming again after a failure never sends a
second close of the same position (TRADE-05).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from api.accounts import Account
from api.broker import BrokerGateway, BrokerOrder
from api.db import Database
from api.errors import AppError
from api.trading import guard_audit, proposals
from api.trading.guards import Source
from api.trading.placement import idempotent_client_order_id
from api.trading.proposals import Proposal, ProposalKind

# As many open orders as one broker read lists (the orders query's own bound).
OPEN_ORDERS_READ = 500
# Symbols named in a close-all summary; the rest are counted.
SYMBOLS_NAMED = 5

# Closes one whole position of an account under a client order id: TradingService's.
Closer = Callable[[Account, str, str], Awaitable[BrokerOrder]]


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What confirming a cancel-all or a close-all did, item by item."""

    canceled: tuple[str, ...] = ()
    orders: tuple[BrokerOrder, ...] = ()
    # Each order id or symbol left as it was, and why.
    left: tuple[tuple[str, str], ...] = ()


class BulkActions:
    """Proposes and carries out cancel-all and close-all on one account at a time."""

    def __init__(self, database: Database, gateway: BrokerGateway, close: Closer) -> None:
        self._database = database
        self._gateway = gateway
        self._close = close

    async def propose_cancel_all(
        self, account: Account, message_id: UUID | None = None
    ) -> Proposal | None:
        """A proposal to cancel every order open now; None when none is open."""
        open_orders = await self._gateway.orders(account.broker, "open", OPEN_ORDERS_READ)
        if not open_orders:
            return None
        count = len(open_orders)
        what = "the 1 open order" if count == 1 else f"all {count} open orders"
        summary = f"Cancel {what} on {_label(account)}"
        targets = tuple(order.id for order in open_orders)
        return await self._store(account, ProposalKind.CANCEL_ALL, targets, summary, message_id)

    async def propose_close_all(
        self, account: Account, message_id: UUID | None = None
    ) -> Proposal | None:
        """A proposal to close every position held now; None when there is none."""
        held = [p for p in await self._gateway.positions(account.broker) if p.qty != 0]
        if not held:
            return None
        symbols = tuple(p.symbol for p in held)
        named = ", ".join(symbols[:SYMBOLS_NAMED])
        if len(symbols) > SYMBOLS_NAMED:
            named += f" and {len(symbols) - SYMBOLS_NAMED} more"
        what = "the 1 position" if len(symbols) == 1 else f"all {len(symbols)} positions"
        summary = f"Close {what} ({named}) at market on {_label(account)}"
        return await self._store(account, ProposalKind.CLOSE_ALL, symbols, summary, message_id)

    async def carry_out(self, account: Account, proposal: Proposal) -> BulkOutcome:
        """Act on a claimed proposal's targets; unexpectedly failed, it is PENDING again."""
        try:
            if proposal.kind is ProposalKind.CANCEL_ALL:
                return await self._cancel(account, proposal)
            return await self._close_all(account, proposal)
        except BaseException:
            # Nothing listed is done twice by confirming again: cancelling a cancelled order
            # is skipped, a close repeats its client order id.
            async with self._database.tenant(account.owner_id):
                await proposals.set_status(proposal.id, "PENDING")
            raise

    async def _cancel(self, account: Account, proposal: Proposal) -> BulkOutcome:
        still_open = {
            order.id
            for order in await self._gateway.orders(account.broker, "open", OPEN_ORDERS_READ)
        }
        canceled: list[str] = []
        left: list[tuple[str, str]] = []
        for order_id in proposal.targets:
            if order_id not in still_open:
                left.append((order_id, "no longer open"))
                continue
            try:
                await self._gateway.cancel_order(account.broker, order_id)
            except AppError as error:
                left.append((order_id, error.message))
            else:
                canceled.append(order_id)
        detail = f"{len(canceled)} of {len(proposal.targets)} open orders cancelled"
        if canceled:
            detail += ": " + ", ".join(canceled)
        async with self._database.tenant(account.owner_id) as conn:
            await guard_audit.record_event(
                conn, account.owner_id, account.id, "ORDERS_CANCELED", detail, Source.CONFIRM
            )
        return BulkOutcome(canceled=tuple(canceled), left=tuple(left))

    async def _close_all(self, account: Account, proposal: Proposal) -> BulkOutcome:
        orders: list[BrokerOrder] = []
        left: list[tuple[str, str]] = []
        for symbol in proposal.targets:
            client_order_id = idempotent_client_order_id(account.id, f"{proposal.id}:{symbol}")
            try:
                orders.append(await self._close(account, symbol, client_order_id))
            except AppError as error:
                left.append((symbol, error.message))
        return BulkOutcome(orders=tuple(orders), left=tuple(left))

    async def _store(
        self,
        account: Account,
        kind: ProposalKind,
        targets: tuple[str, ...],
        summary: str,
        message_id: UUID | None,
    ) -> Proposal:
        async with self._database.tenant(account.owner_id) as conn:
            return await proposals.store_bulk(
                conn, account.record, kind, targets, summary, message_id
            )


def _label(account: Account) -> str:
    return f"{account.record.nickname} ({account.environment})"
