"""Order proposals: an order that waits for the person to confirm it.

Live orders (always) and chat orders (unless a paper account lets them through)
become proposals. A proposal's id is the client order id of the order it
becomes, so confirming twice can never send two orders (TRADE-05); proposals
expire after two minutes and are validated again on confirmation. A live
proposal is announced on the event bus, for the owner's notifications (PUSH-01).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.select import SelectRaw

from api.accounts import AccountRecord
from api.db.tables import OrderProposal
from api.realtime import AccountAlertEvent, publish
from api.realtime.events import ALERT_PROPOSAL_WAITING
from api.trading.orders import OrderIntent
from api.trading.validation import CheckedOrder

LIFETIME = timedelta(minutes=2)

# Proposals are read with the account's environment; whether one has expired is
# the database's clock, as for claim().
_COLUMNS = (
    OrderProposal.id,
    OrderProposal.account_id,
    OrderProposal.request,
    OrderProposal.summary,
    OrderProposal.estimated_cost,
    OrderProposal.status,
    OrderProposal.broker_order_id,
    OrderProposal.created_at,
    OrderProposal.expires_at,
    OrderProposal.message_id,
    OrderProposal.account_id.environment.as_alias("environment"),
    SelectRaw("expires_at <= now() AS expired"),
)


@dataclass(frozen=True, slots=True)
class Proposal:
    id: UUID
    account_id: UUID
    environment: str
    intent: OrderIntent
    summary: str
    estimated_cost: Decimal
    status: str
    broker_order_id: str | None
    created_at: datetime
    expires_at: datetime
    message_id: UUID | None = None
    # What the limits leave after this order, when it was just proposed (RISK-01); not stored.
    headroom: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | asyncpg.Record) -> Proposal:
        status = row["status"]
        if status == "PENDING" and row["expired"]:
            status = "EXPIRED"
        request = row["request"]
        return cls(
            id=row["id"],
            account_id=row["account_id"],
            environment=row["environment"],
            intent=OrderIntent.from_json(
                json.loads(request) if isinstance(request, str) else request
            ),
            summary=row["summary"],
            estimated_cost=row["estimated_cost"],
            status=status,
            broker_order_id=row["broker_order_id"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            message_id=row["message_id"],
        )


async def store(
    conn: asyncpg.Connection,
    account: AccountRecord,
    checked: CheckedOrder,
    message_id: UUID | None = None,
) -> Proposal:
    proposal_id = uuid4()
    # SQL, naming only the columns the runtime role may insert (api/db/tables.py)
    await conn.execute(
        """insert into app.order_proposals
           (id, owner_id, account_id, message_id, request, summary, estimated_cost, expires_at)
           values ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval)""",
        proposal_id,
        account.owner_id,
        account.id,
        message_id,
        json.dumps(checked.intent.to_json()),
        checked.summary,
        checked.estimated_cost,
        LIFETIME,
    )
    found = await load(proposal_id)
    assert found is not None
    if account.environment == "LIVE":
        # Delivered at commit: the owner's devices hear of it even with the app closed
        # (PUSH-01); the notification opens the proposal, it never confirms it.
        intent = checked.intent
        alert = AccountAlertEvent(
            account.id,
            account.owner_id,
            ALERT_PROPOSAL_WAITING,
            found.created_at,
            proposal_id=proposal_id,
            symbol=intent.symbol,
            side=intent.side.value,
            qty=intent.qty,
            notional=intent.notional,
        )
        await publish(conn, alert)
    return found


async def load(proposal_id: UUID) -> Proposal | None:
    rows = await OrderProposal.select(*_COLUMNS).where(OrderProposal.id == proposal_id)
    return Proposal.from_row(rows[0]) if rows else None


async def for_messages(message_ids: list[UUID]) -> list[Proposal]:
    if not message_ids:
        return []
    rows = (
        await OrderProposal.select(*_COLUMNS)
        .where(OrderProposal.message_id.is_in(message_ids))
        .order_by(OrderProposal.created_at)
    )
    return [Proposal.from_row(r) for r in rows]


async def claim(proposal_id: UUID) -> bool:
    """PENDING → CONFIRMED, once: concurrent confirmations race here and one wins."""
    claimed = (
        await OrderProposal.update({OrderProposal.status: "CONFIRMED"})
        .where(
            (OrderProposal.id == proposal_id)
            & (OrderProposal.status == "PENDING")
            & WhereRaw("expires_at > now()")
        )
        .returning(OrderProposal.id)
    )
    return bool(claimed)


async def set_status(proposal_id: UUID, status: str, broker_order_id: str | None = None) -> None:
    values: dict[Column | str, Any] = {OrderProposal.status: status}
    if broker_order_id is not None:
        values[OrderProposal.broker_order_id] = broker_order_id
    await OrderProposal.update(values).where(OrderProposal.id == proposal_id)


async def settle_unfinished(proposal_id: UUID, broker_order_id: str | None) -> None:
    """After a placement that never finished (api/trading/reconcile.py): the order the broker
    has under this proposal's id is its order, whatever the proposal says (CONFIRMED, linked);
    with none at the broker a claimed, unlinked proposal is PENDING again, as `confirm`
    leaves it when placing fails. Dismissed proposals and linked ones are left alone."""
    unlinked = (OrderProposal.id == proposal_id) & OrderProposal.broker_order_id.is_null()
    if broker_order_id is None:
        await OrderProposal.update({OrderProposal.status: "PENDING"}).where(
            unlinked & (OrderProposal.status == "CONFIRMED")
        )
    else:
        await OrderProposal.update(
            {OrderProposal.status: "CONFIRMED", OrderProposal.broker_order_id: broker_order_id}
        ).where(unlinked & OrderProposal.status.is_in(["PENDING", "CONFIRMED"]))
