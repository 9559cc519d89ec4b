"""``BrokerGateway``: the one door between the product and Alpaca (decision 2 in DESIGN.md).

Every method is async and takes an ``AccountRef`` (or, for ``verify``, keys
that are not stored yet). Guarantees, in the order a call meets them:

* Keys are decrypted on a worker thread inside the call and dropped when it
  returns (CRED-02); no client object, session or cache ever holds them.
* The blocking HTTP runs on a bounded thread pool, never on the event loop.
* Every request has a connect and a read timeout; reads retry transient
  failures (5xx, a connection that could not be made or dropped) with jittered
  exponential backoff, a few hundred milliseconds in all. Writes never retry.
* Failures leave as ``BrokerError`` with a code (see ``errors.py``).
* An order carries a client order id and an audit row written before it is
  sent; an ambiguous failure is resolved by asking the broker for that id, and
  a repeated id is answered with the existing order: placed at most once
  (TRADE-05).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from enum import Enum
from functools import partial
from typing import Any
from urllib.parse import quote as quote_path
from uuid import UUID, uuid4

import asyncpg
from alpaca.common.enums import Sort
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

from api.broker import audit, parse
from api.broker.accounts import load_account_ref
from api.broker.audit import AuditOutcome
from api.broker.errors import (
    BrokerError,
    bad_input,
    rate_limited,
    rejected,
    unavailable,
)
from api.broker.http import Answer, ConnectionPool, Failure, NoAnswer, Outcome, Timeouts
from api.broker.models import (
    ENVIRONMENTS,
    AccountRef,
    Asset,
    Clock,
    Environment,
    Order,
    OrderRequest,
    OrderStatusFilter,
    Position,
    Quote,
    Snapshot,
    Verification,
)
from api.broker.orders import client_order_id, order_body, symbol
from api.config import Settings
from api.db import Database
from api.vault import Vault, VaultError

log = logging.getLogger(__name__)

_MAX_ORDERS = 500
_QTY_STEP = Decimal("0.000000001")
_UNIQUE_ID = re.compile(r"client[ _]order[ _]id.*unique", re.IGNORECASE)
_TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
_RATE_WARNING = 20


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries for reads: ``attempts`` in all, full-jitter exponential backoff.

    With the defaults the sleeps add up to at most 0.45 s, so a failing read
    answers well within two seconds plus the requests themselves.
    """

    attempts: int = 3
    base_delay: float = 0.15
    max_delay: float = 0.6

    def delay(self, retry: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**retry)
        return random.uniform(ceiling / 2, ceiling)


class _Unreadable:
    """Returned by a worker when the stored keys do not decrypt (the vault's keys changed)."""


_UNREADABLE = _Unreadable()


class BrokerGateway:
    """Async access to Alpaca for every account; create one per process from Settings.

    It owns the credential-free connection pools and the worker threads; call
    ``close()`` at shutdown.
    """

    def __init__(
        self,
        settings: Settings,
        vault: Vault,
        database: Database,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_workers: int = 16,
    ) -> None:
        self._rest: dict[str, str] = {
            "PAPER": settings.paper_url.rstrip("/"),
            "LIVE": settings.live_url.rstrip("/"),
        }
        self._data = settings.data_url.rstrip("/")
        self._vault = vault
        self._database = database
        self._retry = retry or RetryPolicy()
        self._pool = ConnectionPool(
            {*self._rest.values(), self._data},
            size=max_workers,
            timeouts=timeouts or Timeouts(),
        )
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="broker")

    @property
    def pool(self) -> ConnectionPool:
        return self._pool

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._pool.close()

    # ------------------------------------------------------------------ accounts

    async def account(self, user_id: UUID, account_id: UUID) -> AccountRef | None:
        """The stored account if ``user_id`` owns it, else None (see ``load_account_ref``)."""
        return await load_account_ref(self._database, user_id, account_id)

    async def verify(self, environment: str, api_key_id: str, secret_key: str) -> Verification:
        """Check a key pair with the broker before anything is stored (ACCT-01, ACCT-04).

        Rejected keys are BAD_USER_INPUT; when they work for the other
        environment the message says so, since that is the usual mistake.
        """
        env = _environment(environment)
        key_id = _credential(api_key_id, "key id")
        secret = _credential(secret_key, "secret key")
        base = self._rest[env]
        answer = await self._with_retries(
            lambda: self._send_with(key_id, secret, "GET", base, "/v2/account")
        )
        if isinstance(answer, Answer) and answer.status in {401, 403}:
            other: Environment = "LIVE" if env == "PAPER" else "PAPER"
            probe = await self._send_with(key_id, secret, "GET", self._rest[other], "/v2/account")
            if isinstance(probe, Answer) and probe.ok:
                raise bad_input(
                    f"keys rejected by Alpaca for {env.lower()} trading: they are "
                    f"{other.lower()} keys, so choose {other}",
                    answer.status,
                )
            raise bad_input(
                "keys rejected by Alpaca: check the key id and secret, and whether they are "
                "paper or live keys",
                answer.status,
            )
        body = self._expect(answer).body
        return parse.parsed(lambda: parse.verification(body, env))

    # ------------------------------------------------------------------ reads

    async def snapshot(self, ref: AccountRef) -> Snapshot:
        """Cash, equity, buying power and friends as of now (DISP-02, DISP-03)."""
        answer = await self._read(ref, self._base(ref), "/v2/account")
        as_of = datetime.now(UTC)
        return parse.parsed(lambda: parse.snapshot(answer.body, ref.environment, as_of))

    async def positions(self, ref: AccountRef) -> list[Position]:
        """This account's open positions, by symbol (TRADE-03)."""
        answer = await self._read(ref, self._base(ref), "/v2/positions")
        return parse.parsed(lambda: parse.positions(answer.body))

    async def orders(
        self, ref: AccountRef, status: OrderStatusFilter = "open", limit: int = 50
    ) -> list[Order]:
        """This account's orders, newest first (TRADE-04)."""
        if status not in ("open", "closed", "all"):
            raise bad_input("order status must be open, closed or all")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_ORDERS:
            raise bad_input(f"limit must be between 1 and {_MAX_ORDERS}")
        params = _plain(
            GetOrdersRequest(
                status=QueryOrderStatus(status), limit=limit, direction=Sort.DESC
            ).to_request_fields()
        )
        answer = await self._read(ref, self._base(ref), "/v2/orders", params)
        return parse.parsed(lambda: parse.orders(answer.body))

    async def order(self, ref: AccountRef, order_id: str) -> Order:
        """One order of this account; another account's id is 'not found' (BROKER_REJECTED)."""
        path = f"/v2/orders/{_order_id(order_id)}"
        answer = await self._read(ref, self._base(ref), path)
        return parse.parsed(lambda: parse.order(answer.body))

    async def order_by_client_id(self, ref: AccountRef, client_id: str) -> Order | None:
        params = {"client_order_id": client_order_id(client_id)}
        answer = await self._read(
            ref, self._base(ref), "/v2/orders:by_client_order_id", params, accept={404}
        )
        if answer.status == 404:
            return None
        return parse.parsed(lambda: parse.order(answer.body))

    async def latest_quote(self, ref: AccountRef, ticker: str) -> Quote:
        """The latest bid/ask; an unknown symbol is BAD_USER_INPUT."""
        sym = symbol(ticker)
        params = _plain(StockLatestQuoteRequest(symbol_or_symbols=sym).to_request_fields())
        answer = await self._read(
            ref, self._data, "/v2/stocks/quotes/latest", params, parse_float=Decimal
        )
        quotes = answer.body.get("quotes") if isinstance(answer.body, dict) else None
        raw = quotes.get(sym) if isinstance(quotes, dict) else None
        if raw is None:
            raise bad_input(f"no quote for {sym}")
        return parse.parsed(lambda: parse.quote(sym, raw))

    async def asset(self, ref: AccountRef, ticker: str) -> Asset | None:
        """Whether a symbol is tradable, fractionable, shortable (TRADE-02); None if unknown."""
        path = f"/v2/assets/{quote_path(symbol(ticker), safe='')}"
        answer = await self._read(ref, self._base(ref), path, accept={404})
        if answer.status == 404:
            return None
        return parse.parsed(lambda: parse.asset(answer.body))

    async def clock(self, ref: AccountRef) -> Clock:
        answer = await self._read(ref, self._base(ref), "/v2/clock")
        return parse.parsed(lambda: parse.clock(answer.body))

    # ------------------------------------------------------------------ writes

    async def cancel_order(self, ref: AccountRef, order_id: str) -> None:
        """Ask the broker to cancel; a refusal (already filled, unknown id) is BROKER_REJECTED."""
        path = f"/v2/orders/{_order_id(order_id)}"
        self._expect(await self._send(ref, "DELETE", self._base(ref), path))

    async def place_order(self, ref: AccountRef, request: OrderRequest) -> Order:
        """Place an order at most once (TRADE-05).

        The client order id is the request's (e.g. a chat proposal id) or a new
        uuid4. Validation problems are BAD_USER_INPUT before anything is
        written; after that every attempt and outcome lands in app.order_audit.
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
        path = f"/v2/positions/{quote_path(sym, safe='')}"
        answer = await self._read(ref, self._base(ref), path, accept={404})
        if answer.status == 404:
            raise bad_input(f"there is no open position in {sym}")
        held = parse.parsed(lambda: parse.position(answer.body))
        amount = _close_amount(abs(held.qty), qty, percentage)
        side = "sell" if held.side == "long" else "buy"
        return await self.place_order(
            ref,
            OrderRequest(
                symbol=sym,
                side=side,
                type="market",
                qty=amount,
                time_in_force="day",
                client_order_id=client_order_id,
            ),
        )

    async def _place(self, ref: AccountRef, coid: str, body: dict[str, Any]) -> Order:
        attempt = await audit.record_attempt(self._database, ref, coid, body)
        if attempt.seen_before:
            # This id was tried before, so the order may already exist: ask first and
            # send only when the broker has never seen it.
            existing, problem = await self._find(ref, coid)
            if existing is not None:
                outcome: AuditOutcome = "ACCEPTED" if attempt.outcome == "ACCEPTED" else "RECOVERED"
                await self._settle(
                    ref,
                    coid,
                    outcome,
                    existing.id,
                    f"attempt {attempt.attempts}: the broker already had this order; nothing sent",
                )
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
        sent = await self._send(ref, "POST", self._base(ref), "/v2/orders", json=body)
        if isinstance(sent, NoAnswer):
            if sent.failure is Failure.NOT_SENT:
                await self._settle(
                    ref, coid, "NOT_PLACED", None, "the broker could not be reached; nothing sent"
                )
                raise unavailable("cannot reach the broker; the order was not sent")
            return await self._recover(ref, coid, f"the order's answer {sent.failure.value}")
        if sent.ok:
            placed: Order | None = None
            try:
                placed = parse.parsed(lambda: parse.order(sent.body))
            except BrokerError:
                placed = None
            if placed is None:
                return await self._recover(ref, coid, "the broker's answer could not be read")
            await self._settle(ref, coid, "ACCEPTED", placed.id, None)
            return placed
        message = sent.message()
        if sent.status == 422 and _UNIQUE_ID.search(message):
            return await self._recover(ref, coid, "the broker already had this client order id")
        if sent.status == 429:
            await self._settle(ref, coid, "NOT_PLACED", None, "rate limited by the broker")
            raise rate_limited(sent.retry_after)
        if 400 <= sent.status < 500:
            await self._settle(ref, coid, "REJECTED", None, f"{sent.status}: {message}")
            raise rejected(message, sent.status)
        # A 5xx (or anything odd): the broker may or may not have taken the order.
        return await self._recover(ref, coid, f"the broker answered {sent.status}: {message}")

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
            return await self.order_by_client_id(ref, coid), None
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

    # ------------------------------------------------------------------ transport

    def _base(self, ref: AccountRef) -> str:
        return self._rest[_environment(ref.environment)]

    async def _read(
        self,
        ref: AccountRef,
        base: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        parse_float: type | None = None,
        accept: frozenset[int] | set[int] = frozenset(),
    ) -> Answer:
        outcome = await self._with_retries(
            lambda: self._send(ref, "GET", base, path, params=params, parse_float=parse_float)
        )
        return self._expect(outcome, accept)

    async def _with_retries(self, send: Callable[[], Awaitable[Outcome]]) -> Outcome:
        outcome = await send()
        for retry in range(self._retry.attempts - 1):
            if not _transient(outcome):
                break
            await asyncio.sleep(self._retry.delay(retry))
            outcome = await send()
        return outcome

    def _expect(self, outcome: Outcome, accept: frozenset[int] | set[int] = frozenset()) -> Answer:
        if isinstance(outcome, Answer) and (outcome.ok or outcome.status in accept):
            return outcome
        raise self._error(outcome)

    def _error(self, outcome: Outcome) -> BrokerError:
        if isinstance(outcome, NoAnswer):
            if outcome.failure is Failure.TIMED_OUT:
                return unavailable(
                    f"the broker did not answer within {self._pool.timeouts.read:g} s"
                )
            if outcome.failure is Failure.NOT_SENT:
                return unavailable("cannot reach the broker")
            return unavailable("the connection to the broker dropped")
        message = outcome.message()
        if outcome.status == 429:
            return rate_limited(outcome.retry_after)
        if 400 <= outcome.status < 500:
            return rejected(message, outcome.status)
        status = outcome.status
        return unavailable(f"the broker is unavailable ({status}: {message})", status)

    async def _send(
        self,
        ref: AccountRef,
        method: str,
        base: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        parse_float: type | None = None,
    ) -> Outcome:
        loop = asyncio.get_running_loop()
        call = partial(self._exchange_as, ref, method, base, path, params, json, parse_float)
        result = await loop.run_in_executor(self._executor, call)
        if isinstance(result, _Unreadable):
            raise VaultError("the stored credentials of this account do not decrypt")
        remaining = result.rate_remaining if isinstance(result, Answer) else None
        if remaining is not None and remaining < _RATE_WARNING:
            # Alpaca allows about 200 calls a minute per key; snapshot polling and chat
            # share that budget, so operators should see it running out before a 429.
            log.warning("account %s: %d broker calls left in this minute", ref.id, remaining)
        return result

    async def _send_with(
        self, key_id: str, secret: str, method: str, base: str, path: str
    ) -> Outcome:
        loop = asyncio.get_running_loop()
        call = partial(self._pool.exchange, method, base, path, key_id=key_id, secret=secret)
        return await loop.run_in_executor(self._executor, call)

    def _exchange_as(
        self,
        ref: AccountRef,
        method: str,
        base: str,
        path: str,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
        parse_float: type | None,
    ) -> Outcome | _Unreadable:
        """Worker thread: decrypt, send, forget (CRED-02).

        The plaintext lives in this frame and the request only; returning (not
        raising) guarantees no traceback keeps this frame alive afterwards.
        """
        try:
            key_id = self._vault.decrypt(
                ref.key_id_encrypted, account_id=ref.id, owner_id=ref.owner_id
            )
            secret = self._vault.decrypt(
                ref.secret_encrypted, account_id=ref.id, owner_id=ref.owner_id
            )
        except VaultError:
            return _UNREADABLE
        return self._pool.exchange(
            method,
            base,
            path,
            key_id=key_id,
            secret=secret,
            params=params,
            json=json,
            parse_float=parse_float,
        )


def _transient(outcome: Outcome) -> bool:
    """Worth another read: a 5xx, or no connection. Not a read timeout: the broker is slow,
    and waiting the full read timeout again would only make the person wait longer."""
    if isinstance(outcome, NoAnswer):
        return outcome.failure is not Failure.TIMED_OUT
    return outcome.status in _TRANSIENT_STATUSES


def _environment(raw: str) -> Environment:
    value = raw.upper() if isinstance(raw, str) else ""
    for env in ENVIRONMENTS:
        if env == value:
            return env
    raise bad_input("environment must be PAPER or LIVE")


def _credential(raw: str, what: str) -> str:
    value = raw.strip() if isinstance(raw, str) else ""
    # Never echo the value: it is a credential, even when malformed.
    shaped = value.isascii() and value.isprintable() and " " not in value
    if not value or len(value) > 256 or not shaped:
        raise bad_input(f"the API {what} is not valid")
    return value


def _order_id(raw: str) -> str:
    try:
        return str(UUID(str(raw)))
    except ValueError:
        raise bad_input("not a valid order id") from None


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


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in fields.items()}
