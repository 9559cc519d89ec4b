"""Order proposals: an order that waits for the person to confirm it.

Live orders (always) and chat orders (unless a paper account lets them through)
become proposals. A proposal's id is the client order id of the order it
becomes, so confirming twice can never send two orders (TRADE-05); proposals
expire after two minutes and are validated again on confirmation. A live
proposal is announced on the event bus, for the owner's notifications (PUSH-01).

A replacement of an open order (`kind` "replace", ORD-02) carries the order as it
will be in `intent` and the order it replaces as its one target.
A proposal is one order (`kind` "order", its `intent`), or, from the chat, every
open order to cancel or every position to close (`kind` "cancel_all" or
"close_all", the order ids or symbols it covers in `targets`: api/trading/bulk.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
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


class ProposalKind(StrEnum):
    """What confirming a proposal does (the `kind` column's check lists the same values)."""

    ORDER = "order"
    CANCEL_ALL = "cancel_all"
    CLOSE_ALL = "close_all"
    REPLACE = "replace"


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
    OrderProposal.kind,
    OrderProposal.account_id.environment.as_alias("environment"),
    SelectRaw("expires_at <= now() AS expired"),
)


@dataclass(frozen=True, slots=True)
class Proposal:
    id: UUID
    account_id: UUID
    environment: str
    # The order, for kind ORDER; None for the other kinds, which list `targets` instead.
    intent: OrderIntent | None
    summary: str
    estimated_cost: Decimal
    status: str
    broker_order_id: str | None
    created_at: datetime
    expires_at: datetime
    message_id: UUID | None = None
    # What the limits leave after this order, when it was just proposed (RISK-01); not stored.
    headroom: tuple[str, ...] = ()
    kind: ProposalKind = ProposalKind.ORDER
    targets: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | asyncpg.Record) -> Proposal:
        status = row["status"]
        if status == "PENDING" and row["expired"]:
            status = "EXPIRED"
        raw = row["request"]
        request = json.loads(raw) if isinstance(raw, str) else raw
        kind = ProposalKind(row["kind"])
        ordered = kind in (ProposalKind.ORDER, ProposalKind.REPLACE)
        return cls(
            id=row["id"],
            account_id=row["account_id"],
            environment=row["environment"],
            intent=OrderIntent.from_json(request) if ordered else None,
            kind=kind,
            targets=tuple(request.get("targets", ())),
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
    replaces: str | None = None,
) -> Proposal:
    """One order waiting for confirmation; with `replaces`, the replacement of that order."""
    proposal_id = uuid4()
    kind = ProposalKind.ORDER if replaces is None else ProposalKind.REPLACE
    request = checked.intent.to_json()
    if replaces is not None:
        request["targets"] = [replaces]
    # SQL, naming only the columns the runtime role may insert (api/db/tables.py)
    await conn.execute(
        """insert into app.order_proposals (id, owner_id, account_id, message_id, kind, request,
               summary, estimated_cost, expires_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, now() + $9::interval)""",
        proposal_id,
        account.owner_id,
        account.id,
        message_id,
        kind.value,
        json.dumps(request),
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


async def store_bulk(
    conn: asyncpg.Connection,
    account: AccountRecord,
    kind: ProposalKind,
    targets: tuple[str, ...],
    summary: str,
    message_id: UUID | None = None,
) -> Proposal:
    """A cancel-all or close-all proposal over `targets` (order ids or symbols)."""
    proposal_id = uuid4()
    # SQL, naming only the columns the runtime role may insert (api/db/tables.py)
    await conn.execute(
        """insert into app.order_proposals (id, owner_id, account_id, message_id, kind, request,
               summary, estimated_cost, expires_at)
           values ($1, $2, $3, $4, $5, $6, $7, 0, now() + $8::interval)""",
        proposal_id,
        account.owner_id,
        account.id,
        message_id,
        kind.value,
        json.dumps({"targets": list(targets)}),
        summary,
        LIFETIME,
    )
    found = await load(proposal_id)
    assert found is not None
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
