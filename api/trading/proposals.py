"""Order proposals: an order that waits for the person to confirm it.

Live orders (always) and chat orders (unless a paper account lets them through)
become proposals. A proposal's id is the client order id of the order it
becomes, so confirming twice can never send two orders (TRADE-05); proposals
expire after two minutes and are validated again on confirmation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg

from api.accounts import AccountRecord
from api.trading.tickets import OrderTicket
from api.trading.validation import CheckedOrder

LIFETIME = timedelta(minutes=2)

_SELECT = """select p.id, p.account_id, p.request, p.summary, p.estimated_cost, p.status,
    p.broker_order_id, p.created_at, p.expires_at, p.message_id, a.environment,
    p.expires_at <= now() as expired
    from app.order_proposals p join app.broker_accounts a on a.id = p.account_id"""


@dataclass(frozen=True, slots=True)
class Proposal:
    id: UUID
    account_id: UUID
    environment: str
    ticket: OrderTicket
    summary: str
    estimated_cost: Decimal
    status: str
    broker_order_id: str | None
    created_at: datetime
    expires_at: datetime
    message_id: UUID | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Proposal:
        status = row["status"]
        if status == "PENDING" and row["expired"]:
            status = "EXPIRED"
        request = row["request"]
        return cls(
            id=row["id"],
            account_id=row["account_id"],
            environment=row["environment"],
            ticket=OrderTicket.from_json(
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
    await conn.execute(
        """insert into app.order_proposals
           (id, owner_id, account_id, message_id, request, summary, estimated_cost, expires_at)
           values ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval)""",
        proposal_id,
        account.owner_id,
        account.id,
        message_id,
        json.dumps(checked.ticket.to_json()),
        checked.summary,
        checked.estimated_cost,
        LIFETIME,
    )
    found = await load(conn, proposal_id)
    assert found is not None
    return found


async def load(conn: asyncpg.Connection, proposal_id: UUID) -> Proposal | None:
    row = await conn.fetchrow(f"{_SELECT} where p.id = $1", proposal_id)
    return Proposal.from_row(row) if row is not None else None


async def for_messages(conn: asyncpg.Connection, message_ids: list[UUID]) -> list[Proposal]:
    rows = await conn.fetch(
        f"{_SELECT} where p.message_id = any($1::uuid[]) order by p.created_at",
        message_ids,
    )
    return [Proposal.from_row(r) for r in rows]


async def claim(conn: asyncpg.Connection, proposal_id: UUID) -> bool:
    """PENDING → CONFIRMED, once: concurrent confirmations race here and one wins."""
    claimed = await conn.fetchval(
        """update app.order_proposals set status = 'CONFIRMED'
           where id = $1 and status = 'PENDING' and expires_at > now() returning id""",
        proposal_id,
    )
    return claimed is not None


async def set_status(
    conn: asyncpg.Connection, proposal_id: UUID, status: str, broker_order_id: str | None = None
) -> None:
    await conn.execute(
        """update app.order_proposals
           set status = $2, broker_order_id = coalesce($3, broker_order_id) where id = $1""",
        proposal_id,
        status,
        broker_order_id,
    )
