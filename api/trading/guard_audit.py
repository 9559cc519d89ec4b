"""app.guard_audit: every guard decision, halt, resume and change of limits (RISK-05).

Rows are written on the connection of the caller's tenant transaction, so the
owner's row-level security decides whose trail they join; the runtime role
may insert and read them, never change or remove them. Nothing secret is
stored: symbols, the guard, its limit and the value it met, a sentence.

A refusal also tells the owner's devices (PUSH-01): its alert is published on
the same connection, so it is delivered when the refusal is committed, and
never for a decision that was rolled back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

import asyncpg

from api.realtime import AccountAlertEvent, publish
from api.realtime.events import ALERT_GUARD_REFUSED
from api.trading.guards import Source, Verdict

Event = Literal["HALTED", "RESUMED", "LIMITS_SET", "BROKER_CONFIGURATION_SET", "ORDERS_CANCELED"]
_DETAIL_LIMIT = 500


async def record_decision(
    conn: asyncpg.Connection, owner_id: UUID, verdict: Verdict, source: Source
) -> None:
    refusal = verdict.refusal
    detail = refusal.message if refusal is not None else "; ".join(verdict.headroom) or None
    if refusal is None and verdict.reduces_only:
        detail = "reduces a position"
    await conn.execute(
        """insert into app.guard_audit (owner_id, account_id, event, source, client_order_id,
               symbol, guard, limit_value, value, detail)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        owner_id,
        verdict.account_id,
        "ALLOWED" if refusal is None else "REFUSED",
        source.value,
        verdict.request.client_order_id,
        verdict.request.symbol,
        refusal.guard.value if refusal else None,
        refusal.limit if refusal else None,
        refusal.value if refusal else None,
        detail[:_DETAIL_LIMIT] if detail else None,
    )
    if refusal is not None:
        alert = AccountAlertEvent(
            verdict.account_id,
            owner_id,
            ALERT_GUARD_REFUSED,
            datetime.now(UTC),
            symbol=verdict.request.symbol,
            guard=refusal.guard.value,
        )
        await publish(conn, alert)


async def record_event(
    conn: asyncpg.Connection,
    owner_id: UUID,
    account_id: UUID,
    event: Event,
    detail: str,
    source: Source | Literal["owner"] = "owner",
) -> None:
    await conn.execute(
        """insert into app.guard_audit (owner_id, account_id, event, source, detail)
           values ($1, $2, $3, $4, $5)""",
        owner_id,
        account_id,
        event,
        str(source),
        detail[:_DETAIL_LIMIT],
    )
