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

An idempotency key from the client (``PlaceOrderInput.idempotencyKey``) names
the client order id: a uuid5 of the account and the key, the same in every
process and after every restart, so the same key can never place twice. A
repeat gets the first outcome (the order, or the broker's refusal); the same
key with another order body is BAD_USER_INPUT. Only a request with a stable
id (a key, a proposal id) is ever told that trying again is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal
from functools import partial
from typing import Any
from uuid import UUID, uuid4, uuid5

import asyncpg

from api.broker import (
    AccountRef,
    BrokerError,
    BrokerGateway,
    BrokerOrder,
    ErrorCode,
    NotSent,
    OrderRequest,
    Placed,
    Refused,
    ReplaceRequest,
    Submission,
)
from api.broker.errors import bad_input, rejected, unavailable
from api.broker.orders import client_order_id, order_body, replace_body, symbol
from api.db import Database
from api.trading import audit, limits
from api.trading.audit import AuditOutcome, ClientOrderIdInUse
from api.trading.guards import Verdict
from api.trading.orders import OrderIntent, default_time_in_force

log = logging.getLogger(__name__)

_Send = Callable[[AccountRef, dict[str, Any]], Awaitable[Submission]]

_QTY_STEP = Decimal("0.000000001")
# The namespace of client order ids derived from idempotency keys; changing it would let a
# key used before the change place a second order.
_IDEMPOTENCY_NAMESPACE = UUID("4d1f6a8e-2b7c-5e39-9a0d-6c3b8f1e7a52")
_KEY_LENGTH = 200


def idempotent_client_order_id(account_id: UUID, idempotency_key: str) -> str:
    """The client order id an idempotency key stands for on one account (TRADE-05)."""
    key = idempotency_key.strip()
    if not key or len(key) > _KEY_LENGTH or not key.isprintable():
        raise bad_input(f"idempotencyKey must be 1 to {_KEY_LENGTH} printable characters")
    return str(uuid5(_IDEMPOTENCY_NAMESPACE, f"{account_id}:{key}"))


class Placement:
    """Places orders on any account at most once, each audited; one per process."""

    def __init__(self, database: Database, gateway: BrokerGateway) -> None:
        self._database = database
        self._gateway = gateway

    async def place(
        self,
        ref: AccountRef,
        request: OrderRequest,
        verdict: Verdict,
        *,
        idempotency_key: str | None = None,
    ) -> BrokerOrder:
        """Place an order at most once (TRADE-05), only with its own allowed verdict (RISK-01).

        Validation problems are BAD_USER_INPUT before anything is written;
        after that every attempt and outcome lands in app.order_audit. With an
        ``idempotency_key`` the client order id is derived from it and a repeat
        answers what the first attempt ended as.

        ``verdict`` is what `api.trading.guards.judge` decided about this very
        request on this account; it is spent here, and the halt and the day's
        count are read again in the transaction of the ATTEMPTED row
        (`limits.admit`), so no path reaches the broker around the limits.
        """
        if idempotency_key is not None:
            coid = idempotent_client_order_id(ref.id, idempotency_key)
        elif request.client_order_id is not None:
            coid = request.client_order_id
        else:
            coid = str(uuid4())
        verdict.admit(ref.id, request, coid)
        body = order_body(request, client_order_id(coid))
        stable = idempotency_key is not None or request.client_order_id is not None
        admission = partial(
            limits.admit, account_id=ref.id, client_order_id=coid, reduces_only=verdict.reduces_only
        )
        try:
            return await self._place(
                ref,
                coid,
                body,
                admission,
                send=self._sender(request, verdict),
                stable=stable,
                replay=idempotency_key is not None,
            )
        except ClientOrderIdInUse:
            if idempotency_key is None:
                raise
            raise bad_input("this idempotency key was used for another order") from None

    async def replace(
        self,
        ref: AccountRef,
        order_id: str,
        change: ReplaceRequest,
        request: OrderRequest,
        verdict: Verdict,
        *,
        idempotency_key: str | None = None,
    ) -> BrokerOrder:
        """Replace an open order at most once (ORD-02, TRADE-05), only with its verdict.

        ``request`` is the order as it will be after ``change``, which is what the
        limits judged (RISK-01). The replacement is a new order at the broker; its
        client order id (from ``idempotency_key``, else ``request``'s, else new) is
        audited before the PATCH leaves, and an ambiguous answer is settled by asking
        the broker for that id, exactly as for a new order.
        """
        if idempotency_key is not None:
            coid = idempotent_client_order_id(ref.id, idempotency_key)
        else:
            coid = request.client_order_id or str(uuid4())
        verdict.admit(ref.id, request, coid)
        sent = replace(change, client_order_id=client_order_id(coid))
        body = {"replaces": order_id, **replace_body(sent)}
        admission = partial(
            limits.admit, account_id=ref.id, client_order_id=coid, reduces_only=verdict.reduces_only
        )

        async def patch(account: AccountRef, _body: dict[str, Any]) -> Submission:
            return await self._gateway.replace_order(account, order_id, sent)

        stable = idempotency_key is not None or request.client_order_id is not None
        try:
            return await self._place(
                ref, coid, body, admission, send=patch, stable=stable, replay=stable
            )
        except ClientOrderIdInUse:
            if idempotency_key is None:
                raise
            raise bad_input("this idempotency key was used for another order") from None

    def _sender(self, request: OrderRequest, verdict: Verdict) -> _Send:
        """How the order travels: a halted account's close goes by the broker's own close,
        which its ``suspend_trade`` lets through (RISK-04); everything else as an order."""
        closes = verdict.halted and verdict.reduces_only and request.qty is not None
        if closes and request.type == "market":
            return self._gateway.close_at_broker
        return self._gateway.submit_order

    async def closing_request(
        self,
        ref: AccountRef,
        ticker: str,
        *,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
        client_order_id: str | None = None,
    ) -> OrderRequest:
        """The order that closes all of a position, ``qty`` of it or ``percentage`` (0-100).

        A market order with a client order id rather than Alpaca's
        DELETE /v2/positions, which cannot carry one: closing is judged,
        audited and idempotent like any other order. A repeated
        ``client_order_id`` gives back the request first sent under it, so
        placing it again answers with the order the first attempt placed.
        """
        sym = symbol(ticker)
        if client_order_id is not None:
            stored = await audit.stored_request(self._database, ref, client_order_id)
            if stored is not None:
                return OrderIntent.from_json(stored).request(client_order_id)
        if qty is not None and percentage is not None:
            raise bad_input("give qty or percentage, not both")
        held = await self._gateway.position(ref, sym)
        if held is None:
            raise bad_input(f"there is no open position in {sym}")
        return OrderRequest(
            symbol=sym,
            side="sell" if held.side == "long" else "buy",
            type="market",
            qty=_close_amount(abs(held.qty), qty, percentage),
            time_in_force=default_time_in_force(sym).value,
            client_order_id=client_order_id,
        )

    async def _place(
        self,
        ref: AccountRef,
        coid: str,
        body: dict[str, Any],
        admission: audit.Admission,
        *,
        send: _Send,
        stable: bool,
        replay: bool,
    ) -> BrokerOrder:
        attempt = await audit.record_attempt(self._database, ref, coid, body, admit=admission)
        if attempt.seen_before:
            if replay and attempt.outcome == "REJECTED":
                # the first outcome of an idempotency key stands: refused stays refused
                raise rejected(f"this order was refused when first sent ({attempt.detail})")
            # This id was tried before, so the order may already exist: ask first and
            # send only when the broker has never seen it.
            existing, problem = await self._find(ref, coid)
            if existing is not None:
                outcome: AuditOutcome = "ACCEPTED" if attempt.outcome == "ACCEPTED" else "RECOVERED"
                detail = f"attempt {attempt.attempts}: the broker already had this order"
                await self._settle(ref, coid, outcome, existing.id, f"{detail}; nothing sent")
                return existing
            if problem is not None and attempt.broker_order_id is not None:
                # known to be placed: keep what the audit knows, only the answer is missing
                raise unavailable(
                    f"this order was placed (broker order {attempt.broker_order_id}) but the "
                    "broker cannot be read right now; nothing was sent again"
                )
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
        sent = await send(ref, body)
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
        return await self._recover(ref, coid, sent.reason, stable=stable)

    async def _settle_refusal(self, ref: AccountRef, coid: str, error: BrokerError) -> None:
        if error.code is ErrorCode.RATE_LIMITED:
            await self._settle(ref, coid, "NOT_PLACED", None, "rate limited by the broker")
        else:
            await self._settle(ref, coid, "REJECTED", None, f"{error.status}: {error.message}")

    async def _recover(
        self, ref: AccountRef, coid: str, reason: str, *, stable: bool
    ) -> BrokerOrder:
        """After an ambiguous failure: the broker's record for this id decides, nothing else.

        Only a ``stable`` client order id (one the client sends again on a retry) makes a
        retry safe; without one, a retry would be a new order, and the answer says so.
        """
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
        if stable:
            raise unavailable(
                "the broker did not confirm the order and could not be asked about it; trying "
                "the same request again is safe: it cannot be placed twice"
            )
        raise unavailable(
            "the broker did not confirm the order and could not be asked about it: it may have "
            "been placed, so check your orders before sending it again"
        )

    async def _find(self, ref: AccountRef, coid: str) -> tuple[BrokerOrder | None, str | None]:
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
