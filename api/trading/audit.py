"""app.order_audit: every order attempt and what became of it (TRADE-05).

A row is written in the owner's tenant scope *before* the order leaves, keyed
by its client order id, so a crash between sending and answering still leaves
a trace, and a second attempt with the same id finds the first. Attempts are
counted on the same row (upsert); the outcome is rewritten as placement
(``api.trading.placement``) learns more: ATTEMPTED, then ACCEPTED, REJECTED,
RECOVERED, NOT_PLACED or UNKNOWN. Nothing secret is stored: the request is the
order body only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from api.broker.errors import BrokerError, ErrorCode
from api.broker.models import AccountRef
from api.db import Database

AuditOutcome = Literal["ATTEMPTED", "ACCEPTED", "REJECTED", "UNKNOWN", "RECOVERED", "NOT_PLACED"]
_DETAIL_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Attempt:
    """The audit row after counting this attempt; ``outcome`` is what the last one ended as."""

    attempts: int
    outcome: AuditOutcome
    broker_order_id: str | None
    detail: str | None = None

    @property
    def seen_before(self) -> bool:
        return self.attempts > 1


# Runs in the transaction that writes the ATTEMPTED row, before it: placement's last
# word on whether the order may go (the halt, the day's count: RISK-02, RISK-04).
Admission = Callable[[asyncpg.Connection], Awaitable[None]]


async def record_attempt(
    database: Database,
    ref: AccountRef,
    client_order_id: str,
    request: dict[str, Any],
    *,
    admit: Admission,
) -> Attempt:
    """Insert the ATTEMPTED row, or count one more attempt on the existing one.

    `admit` runs first in the same transaction and may refuse (raise): then
    nothing is written and nothing may be sent.

    The same client order id may only ever mean the same order on the same
    account: a different body or account under a used id is refused, and so is
    an id used by another tenant (RLS hides their row and refuses the update).
    """
    failure: BrokerError | None = None
    try:
        async with database.tenant(ref.owner_id) as conn:
            await admit(conn)
            row = await conn.fetchrow(
                """insert into app.order_audit
                       (owner_id, account_id, client_order_id, request, outcome)
                   values ($1, $2, $3, $4::jsonb, 'ATTEMPTED')
                   on conflict (client_order_id) do update
                       set attempts = app.order_audit.attempts + 1, updated_at = now()
                       where app.order_audit.account_id = excluded.account_id
                         and app.order_audit.request = excluded.request
                   returning attempts, outcome, broker_order_id, detail""",
                ref.owner_id,
                ref.id,
                client_order_id,
                json.dumps(request, sort_keys=True),
            )
    except asyncpg.InsufficientPrivilegeError:
        failure = _id_in_use()
    if failure is not None:
        raise failure
    if row is None:
        raise _id_in_use()
    return Attempt(row["attempts"], row["outcome"], row["broker_order_id"], row["detail"])


async def record_outcome(
    database: Database,
    ref: AccountRef,
    client_order_id: str,
    outcome: AuditOutcome,
    *,
    broker_order_id: str | None = None,
    detail: str | None = None,
) -> None:
    async with database.tenant(ref.owner_id) as conn:
        await conn.execute(
            """update app.order_audit
                  set outcome = $2, broker_order_id = coalesce($3, broker_order_id),
                      detail = $4, updated_at = now()
                where client_order_id = $1""",
            client_order_id,
            outcome,
            broker_order_id,
            detail[:_DETAIL_LIMIT] if detail else None,
        )


class ClientOrderIdInUse(BrokerError):
    """BAD_USER_INPUT: the client order id already stands for another order."""


def _id_in_use() -> BrokerError:
    return ClientOrderIdInUse(
        ErrorCode.BAD_USER_INPUT, "this client order id was already used for a different order"
    )


async def stored_request(
    database: Database, ref: AccountRef, client_order_id: str
) -> dict[str, Any] | None:
    """The order body first sent under this id for this account, if any."""
    async with database.tenant(ref.owner_id) as conn:
        raw = await conn.fetchval(
            """select request from app.order_audit
                where client_order_id = $1 and account_id = $2""",
            client_order_id,
            ref.id,
        )
    if raw is None:
        return None
    stored: dict[str, Any] = json.loads(raw)
    return stored


@dataclass(frozen=True, slots=True)
class Unfinished:
    """An attempt whose outcome was never learned; ``updated_at`` is its version."""

    owner_id: UUID
    account_id: UUID
    client_order_id: str
    updated_at: datetime


async def unfinished(database: Database, older_than: timedelta, limit: int) -> list[Unfinished]:
    """ATTEMPTED and UNKNOWN rows of every tenant untouched for ``older_than``, oldest first.

    Ids and owners only, through the one definer function that reads across
    tenants (app.unfinished_order_audits); each row is then settled in its
    owner's own tenant scope (`settle_unfinished`).
    """
    async with database.anonymous() as conn:
        rows = await conn.fetch(
            """select owner_id, account_id, client_order_id, updated_at
                 from app.unfinished_order_audits($1, $2)""",
            older_than,
            limit,
        )
    return [
        Unfinished(r["owner_id"], r["account_id"], r["client_order_id"], r["updated_at"])
        for r in rows
    ]


async def settle_unfinished(
    conn: asyncpg.Connection,
    row: Unfinished,
    outcome: AuditOutcome,
    *,
    broker_order_id: str | None,
    detail: str,
) -> bool:
    """Write ``outcome`` unless the row moved on since it was listed (a retry in progress
    owns it then); True when it was written. Runs in the owner's tenant scope."""
    written = await conn.fetchval(
        """update app.order_audit
              set outcome = $2, broker_order_id = coalesce($3, broker_order_id),
                  detail = $4, updated_at = now()
            where client_order_id = $1 and outcome in ('ATTEMPTED', 'UNKNOWN')
              and updated_at = $5
        returning true""",
        row.client_order_id,
        outcome,
        broker_order_id,
        detail[:_DETAIL_LIMIT],
        row.updated_at,
    )
    return bool(written)
