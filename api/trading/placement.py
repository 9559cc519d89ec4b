"""The single path by which an order leaves: client order id, audit, send once, settle (TRADE-05).

Every order gets a client order id (the caller's, e.g. a proposal id, or a new
uuid4) and an ATTEMPTED audit row in the owner's tenant scope before it is
sent. The gateway sends it once; what it learned decides the rest:

* placed: the row becomes ACCEPTED;
* refused by the broker: REJECTED (or NOT_PLACED when rate limited), and the
  person sees the broker's reason;
* never sent: NOT_PLACED;
* unconfirmed (a timeout, a dropped connection, a 5xx): the broker's record
  for that client order id decides, RECOVERED if it has the order, NOT_PLACED
  if it has none, UNKNOWN if it cannot be asked.

A second attempt under an id the audit has seen asks the broker first and
sends only when the broker has never seen it, so nothing is ever retried
without the same client order id, and an order is placed at most once.
"""

from __future__ import annotations

import logging
from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import uuid4

import asyncpg

from api.broker import (
    AccountRef,
    BrokerError,
    BrokerGateway,
    ErrorCode,
    NotSent,
    Order,
    OrderRequest,
    Placed,
    Refused,
)
from api.broker.errors import bad_input, unavailable
from api.broker.orders import client_order_id, order_body, symbol
from api.db import Database
from api.trading import audit
from api.trading.audit import AuditOutcome

log = logging.getLogger(__name__)

_QTY_STEP = Decimal("0.000000001")


class Placement:
    """Places orders on any account at most once, each audited; one per process."""

    def __init__(self, database: Database, gateway: BrokerGateway) -> None:
        self._database = database
        self._gateway = gateway

    async def place(self, ref: AccountRef, request: OrderRequest) -> Order:
        """Place an order at most once (TRADE-05).

        Validation problems are BAD_USER_INPUT before anything is written;
        after that every attempt and outcome lands in app.order_audit.
        """
        coid = str(uuid4()) if request.client_order_id is None else request.client_order_id
        body = order_body(request, client_order_id(coid))
        return await self._place(ref, coid, body)

    async def close_position(
        self,
        ref: AccountRef,
        ticker: str,
        *,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        """Close all of a position, ``qty`` of it or ``percentage`` (0-100) of it.

        Sent as a market order with a client order id rather than Alpaca's
        DELETE /v2/positions, which cannot carry one: closing is audited and
        idempotent like any other order. A repeated ``client_order_id`` is
        answered with the order the first attempt placed.
        """
        sym = symbol(ticker)
        if client_order_id is not None:
            stored = await audit.stored_request(self._database, ref, client_order_id)
            if stored is not None:
                return await self._place(ref, client_order_id, stored)
        if qty is not None and percentage is not None:
            raise bad_input("give qty or percentage, not both")
        held = await self._gateway.position(ref, sym)
        if held is None:
            raise bad_input(f"there is no open position in {sym}")
        request = OrderRequest(
            symbol=sym,
            side="sell" if held.side == "long" else "buy",
            type="market",
            qty=_close_amount(abs(held.qty), qty, percentage),
            time_in_force="day",
            client_order_id=client_order_id,
        )
        return await self.place(ref, request)

    async def _place(self, ref: AccountRef, coid: str, body: dict[str, Any]) -> Order:
        attempt = await audit.record_attempt(self._database, ref, coid, body)
        if attempt.seen_before:
            # This id was tried before, so the order may already exist: ask first and
            # send only when the broker has never seen it.
            existing, problem = await self._find(ref, coid)
            if existing is not None:
                outcome: AuditOutcome = "ACCEPTED" if attempt.outcome == "ACCEPTED" else "RECOVERED"
                detail = f"attempt {attempt.attempts}: the broker already had this order"
                await self._settle(ref, coid, outcome, existing.id, f"{detail}; nothing sent")
                return existing
            if problem is not None:
                await self._settle(
                    ref,
                    coid,
                    "UNKNOWN",
                    None,
                    f"attempt {attempt.attempts}: could not ask the broker about the earlier "
                    f"attempt ({problem}); nothing sent",
                )
                raise unavailable(
                    "the broker could not be asked whether this order was already placed; "
                    "try again shortly: it cannot be placed twice"
                )
        sent = await self._gateway.submit_order(ref, body)
        if isinstance(sent, Placed):
            await self._settle(ref, coid, "ACCEPTED", sent.order.id, None)
            return sent.order
        if isinstance(sent, NotSent):
            detail = "the broker could not be reached; nothing sent"
            await self._settle(ref, coid, "NOT_PLACED", None, detail)
            raise sent.error
        if isinstance(sent, Refused):
            await self._settle_refusal(ref, coid, sent.error)
            raise sent.error
        return await self._recover(ref, coid, sent.reason)

    async def _settle_refusal(self, ref: AccountRef, coid: str, error: BrokerError) -> None:
        if error.code is ErrorCode.RATE_LIMITED:
            await self._settle(ref, coid, "NOT_PLACED", None, "rate limited by the broker")
        else:
            await self._settle(ref, coid, "REJECTED", None, f"{error.status}: {error.message}")

    async def _recover(self, ref: AccountRef, coid: str, reason: str) -> Order:
        """After an ambiguous failure: the broker's record for this id decides, nothing else."""
        existing, problem = await self._find(ref, coid)
        if existing is not None:
            await self._settle(
                ref, coid, "RECOVERED", existing.id, f"{reason}; found it by its client order id"
            )
            return existing
        if problem is None:
            await self._settle(
                ref, coid, "NOT_PLACED", None, f"{reason}; the broker has no order with this id"
            )
            raise unavailable(
                "the broker did not take the order; it was not placed and trying again is safe"
            )
        await self._settle(
            ref, coid, "UNKNOWN", None, f"{reason}; asking the broker failed too ({problem})"
        )
        raise unavailable(
            "the broker did not confirm the order and could not be asked about it; trying the "
            "same order again is safe: it cannot be placed twice"
        )

    async def _find(self, ref: AccountRef, coid: str) -> tuple[Order | None, str | None]:
        """The broker's order for ``coid``, or None; the second item says why asking failed."""
        try:
            return await self._gateway.order_by_client_id(ref, coid), None
        except BrokerError as error:
            return None, error.message

    async def _settle(
        self,
        ref: AccountRef,
        coid: str,
        outcome: AuditOutcome,
        broker_order_id: str | None,
        detail: str | None,
    ) -> None:
        try:
            await audit.record_outcome(
                self._database,
                ref,
                coid,
                outcome,
                broker_order_id=broker_order_id,
                detail=detail,
            )
        except (asyncpg.PostgresError, OSError) as error:
            # The broker has already decided; failing the call now would tell the user an
            # order that exists did not happen. The row stays ATTEMPTED, so a retry with
            # this id asks the broker first. Operators see this line.
            log.error(
                "order %s on account %s ended %s but the audit row was not updated: %s",
                coid,
                ref.id,
                outcome,
                type(error).__name__,
            )


def _close_amount(held: Decimal, qty: Decimal | None, percentage: Decimal | None) -> Decimal:
    if qty is not None:
        if not qty.is_finite() or qty <= 0 or qty > held:
            raise bad_input(f"qty must be more than 0 and at most {held}")
        return qty
    if percentage is not None:
        if not percentage.is_finite() or not 0 < percentage <= 100:
            raise bad_input("percentage must be more than 0 and at most 100")
        amount = (held * percentage / 100).quantize(_QTY_STEP, ROUND_DOWN).normalize()
        if amount <= 0:
            raise bad_input("that percentage of the position is less than the smallest order")
        return amount
    return held
