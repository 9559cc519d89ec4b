"""``BrokerGateway``: the one door between the product and Alpaca (see docs/architecture.md).

Every method is async and takes the stored account's broker view, an
``AccountRef`` (or, for ``verify``, keys that are not stored yet); results are
the frozen dataclasses of ``api.broker.models``, failures a ``BrokerError``
with a code. The gateway owns no SQL and keeps no state about accounts: the
caller reads the account once, in its owner's tenant scope, and passes it in
(decision 2). How a call travels (keys decrypted inside it, timeouts, read
retries) is ``api.broker.transport``. An order is sent once per
``submit_order`` and never retried; the caller holds its client order id and
decides what an ambiguous outcome means (``api.broker.submission``). alpaca-py's
request models are imported in the methods that build them: importing them loads
pandas, about a second that start-up does without (docs/architecture.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal
from urllib.parse import quote as quote_path
from uuid import UUID

from api.broker import parse
from api.broker.errors import bad_input
from api.broker.http import Answer, ConnectionPool, Timeouts
from api.broker.market import MarketGateway
from api.broker.models import (
    ENVIRONMENTS,
    AccountRef,
    BrokerAsset,
    BrokerConfiguration,
    BrokerOrder,
    BrokerPosition,
    BrokerQuote,
    Clock,
    Environment,
    OrderStatusFilter,
    ReplaceRequest,
    Snapshot,
    Verification,
)
from api.broker.orders import client_order_id, replace_body, symbol
from api.broker.submission import Submission, submission
from api.broker.transport import RetryPolicy, Transport
from api.config import Settings
from api.vault import Vault

_MAX_ORDERS = 500
# Crypto market data lives apart from stocks' (ORD-04); a pair is written BASE/QUOTE.
_CRYPTO_DATA = "/v1beta3/crypto/us/latest"
_CONFIGURATIONS = "/v2/account/configurations"
CONFIGURATION_FIELDS = frozenset(BrokerConfiguration.__dataclass_fields__)


class BrokerGateway:
    """Async access to Alpaca for every account; create one per process from Settings.

    It owns the credential-free connection pools and the worker threads; call
    ``close()`` at shutdown.
    """

    def __init__(
        self,
        settings: Settings,
        vault: Vault,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_workers: int = 32,
    ) -> None:
        self._rest: dict[str, str] = {
            "PAPER": settings.paper_url.rstrip("/"),
            "LIVE": settings.live_url.rstrip("/"),
        }
        self._data = settings.data_url.rstrip("/")
        self._transport = Transport(
            vault,
            {*self._rest.values(), self._data},
            timeouts=timeouts or Timeouts(read=settings.broker_timeout_seconds),
            retry=retry or RetryPolicy(),
            max_workers=max_workers,
        )
        # History, market data and watchlists (HIST-01..04), by the same transport.
        self.market = MarketGateway(self._transport, self._rest, self._data)

    @property
    def pool(self) -> ConnectionPool:
        return self._transport.pool

    @property
    def accounts_with_calls_in_flight(self) -> int:
        """Accounts with a broker call in flight or waiting for a slot."""
        return self._transport.bulkhead.accounts_in_flight

    def close(self) -> None:
        self._transport.close()

    # ------------------------------------------------------------------ keys

    async def verify(self, environment: str, api_key_id: str, secret_key: str) -> Verification:
        """Check a key pair with the broker before anything is stored (ACCT-01, ACCT-04).

        Rejected keys are BAD_USER_INPUT; when they work for the other
        environment the message says so, since that is the usual mistake.
        """
        env = _environment(environment)
        key_id = _credential(api_key_id, "key id")
        secret = _credential(secret_key, "secret key")
        send = self._transport.send_with
        answer = await self._transport.with_retries(
            lambda: send(key_id, secret, "GET", self._rest[env], "/v2/account")
        )
        if isinstance(answer, Answer) and answer.status in {401, 403}:
            other: Environment = "LIVE" if env == "PAPER" else "PAPER"
            probe = await send(key_id, secret, "GET", self._rest[other], "/v2/account")
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
        body = self._transport.expect(answer).body
        return parse.parsed(lambda: parse.verification(body, env))

    # ------------------------------------------------------------------ reads

    async def snapshot(self, ref: AccountRef) -> Snapshot:
        """Cash, equity, buying power and friends as of now (DISP-02, DISP-03)."""
        answer = await self._transport.read(ref, self._base(ref), "/v2/account")
        as_of = datetime.now(UTC)
        return parse.parsed(lambda: parse.snapshot(answer.body, ref.environment, as_of))

    async def positions(self, ref: AccountRef) -> list[BrokerPosition]:
        """This account's open positions, by symbol (TRADE-03)."""
        answer = await self._transport.read(ref, self._base(ref), "/v2/positions")
        return parse.parsed(lambda: parse.positions(answer.body))

    async def position(self, ref: AccountRef, ticker: str) -> BrokerPosition | None:
        """This account's open position in one symbol, or None when it holds none."""
        path = f"/v2/positions/{_path_symbol(ticker)}"
        answer = await self._transport.read(ref, self._base(ref), path, accept={404})
        if answer.status == 404:
            return None
        return parse.parsed(lambda: parse.position(answer.body))

    async def orders(
        self,
        ref: AccountRef,
        status: OrderStatusFilter = "open",
        limit: int = 50,
        *,
        until: datetime | None = None,
    ) -> list[BrokerOrder]:
        """This account's orders, newest first (TRADE-04); with ``until``, only those
        submitted before it (the next page back). A bracket's exits come nested under
        their parent (``legs``), not as orders of their own (ORD-01)."""
        from alpaca.common.enums import Sort
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        if status not in ("open", "closed", "all"):
            raise bad_input("order status must be open, closed or all")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_ORDERS:
            raise bad_input(f"limit must be between 1 and {_MAX_ORDERS}")
        params = _plain(
            GetOrdersRequest(
                status=QueryOrderStatus(status),
                limit=limit,
                direction=Sort.DESC,
                until=until,
                nested=True,
            ).to_request_fields()
        )
        answer = await self._transport.read(ref, self._base(ref), "/v2/orders", params)
        return parse.parsed(lambda: parse.orders(answer.body))

    async def order(self, ref: AccountRef, order_id: str) -> BrokerOrder:
        """One order of this account; another account's id is 'not found' (BROKER_REJECTED)."""
        path = f"/v2/orders/{_order_id(order_id)}"
        answer = await self._transport.read(ref, self._base(ref), path)
        return parse.parsed(lambda: parse.order(answer.body))

    async def order_by_client_id(self, ref: AccountRef, client_id: str) -> BrokerOrder | None:
        """The order this account placed under ``client_id``, or None if the broker has none."""
        params = {"client_order_id": client_order_id(client_id)}
        answer = await self._transport.read(
            ref, self._base(ref), "/v2/orders:by_client_order_id", params, accept={404}
        )
        if answer.status == 404:
            return None
        return parse.parsed(lambda: parse.order(answer.body))

    async def latest_quote(self, ref: AccountRef, ticker: str) -> BrokerQuote:
        """The latest bid/ask; an unknown symbol is BAD_USER_INPUT."""
        sym = symbol(ticker)
        raw = await self._latest(ref, sym, "quotes")
        if raw is None:
            raise bad_input(f"no quote for {sym}")
        return parse.parsed(lambda: parse.quote(sym, raw))

    async def latest_trade_price(self, ref: AccountRef, ticker: str) -> Decimal | None:
        """The price of the latest trade, or None when the broker knows none."""
        raw = await self._latest(ref, symbol(ticker), "trades")
        return parse.parsed(lambda: parse.trade_price(raw))

    async def _latest(self, ref: AccountRef, sym: str, what: Literal["quotes", "trades"]) -> Any:
        """The latest quote or trade of one stock or crypto pair, as the broker sent it."""
        from alpaca.data import requests

        crypto = "/" in sym
        kind = {
            ("quotes", False): requests.StockLatestQuoteRequest,
            ("quotes", True): requests.CryptoLatestQuoteRequest,
            ("trades", False): requests.StockLatestTradeRequest,
            ("trades", True): requests.CryptoLatestTradeRequest,
        }[(what, crypto)]
        params = _plain(kind(symbol_or_symbols=sym).to_request_fields())
        path = f"{_CRYPTO_DATA}/{what}" if crypto else f"/v2/stocks/{what}/latest"
        answer = await self._transport.read(ref, self._data, path, params, parse_float=Decimal)
        latest = answer.body.get(what) if isinstance(answer.body, dict) else None
        return latest.get(sym) if isinstance(latest, dict) else None

    async def configuration(self, ref: AccountRef) -> BrokerConfiguration:
        """The account's own brakes at the broker (suspend_trade, no_shorting, ...)."""
        answer = await self._transport.read(ref, self._base(ref), _CONFIGURATIONS)
        return parse.parsed(lambda: parse.configuration(answer.body))

    async def asset(self, ref: AccountRef, ticker: str) -> BrokerAsset | None:
        """Whether a symbol is tradable, fractionable, shortable (TRADE-02); None if unknown."""
        path = f"/v2/assets/{_path_symbol(ticker)}"
        answer = await self._transport.read(ref, self._base(ref), path, accept={404})
        if answer.status == 404:
            return None
        return parse.parsed(lambda: parse.asset(answer.body))

    async def clock(self, ref: AccountRef) -> Clock:
        answer = await self._transport.read(ref, self._base(ref), "/v2/clock")
        return parse.parsed(lambda: parse.clock(answer.body))

    # ------------------------------------------------------------------ writes

    async def cancel_order(self, ref: AccountRef, order_id: str) -> None:
        """Ask the broker to cancel; a refusal (already filled, unknown id) is BROKER_REJECTED."""
        path = f"/v2/orders/{_order_id(order_id)}"
        outcome = await self._transport.send(ref, "DELETE", self._base(ref), path)
        self._transport.expect(outcome)

    async def set_configuration(
        self, ref: AccountRef, changes: dict[str, bool | str | int]
    ) -> BrokerConfiguration:
        """PATCH only the fields in ``changes``, once, and answer the account's configuration.

        Sending only what changes leaves every other brake as the holder set it,
        even one another client changed a moment ago (RISK-04).
        """
        unknown = set(changes) - CONFIGURATION_FIELDS
        if not changes or unknown:
            raise bad_input("unknown or no account configuration fields")
        sent = await self._transport.send(
            ref, "PATCH", self._base(ref), _CONFIGURATIONS, json=dict(changes)
        )
        body = self._transport.expect(sent).body
        return parse.parsed(lambda: parse.configuration(body))

    async def close_at_broker(self, ref: AccountRef, body: dict[str, Any]) -> Submission:
        """Close ``body["qty"]`` of a position with Alpaca's DELETE /v2/positions, once.

        For a halted account only: the broker's ``suspend_trade`` refuses every
        new order but this one (RISK-04). It cannot carry a client order id,
        so the broker's own id is what the audit learns of it.
        """
        path = f"/v2/positions/{_path_symbol(str(body.get('symbol', '')))}"
        params = {"qty": str(body.get("qty", ""))}
        sent = await self._transport.send(ref, "DELETE", self._base(ref), path, params=params)
        return submission(sent)

    async def submit_order(self, ref: AccountRef, body: dict[str, Any]) -> Submission:
        """POST one order body, once, never retried (TRADE-05).

        The body must carry its ``client_order_id``: that id is the only way
        to learn afterwards whether an unconfirmed order exists.
        """
        coid = body.get("client_order_id")
        if not isinstance(coid, str):
            raise bad_input("an order is sent only with its client order id")
        client_order_id(coid)
        sent = await self._transport.send(ref, "POST", self._base(ref), "/v2/orders", json=body)
        return submission(sent)

    async def replace_order(
        self, ref: AccountRef, order_id: str, change: ReplaceRequest
    ) -> Submission:
        """PATCH one open order, once, never retried (ORD-02, TRADE-05).

        Alpaca answers with a new order (a new id, ``replaces`` the old one) and
        marks the old one ``replaced``; the change must carry the new order's client
        order id, the only way to learn afterwards whether an unconfirmed replace
        took effect.
        """
        if change.client_order_id is None:
            raise bad_input("a replacement is sent only with its client order id")
        path = f"/v2/orders/{_order_id(order_id)}"
        body = replace_body(change)
        sent = await self._transport.send(ref, "PATCH", self._base(ref), path, json=body)
        return submission(sent)

    def _base(self, ref: AccountRef) -> str:
        return self._rest[_environment(ref.environment)]


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


def _path_symbol(ticker: str) -> str:
    """A symbol inside a URL path: a crypto pair without its slash (BTC/USD is BTCUSD
    there, which Alpaca accepts for assets and positions alike)."""
    return quote_path(symbol(ticker).replace("/", ""), safe="")


def _order_id(raw: str) -> str:
    try:
        return str(UUID(str(raw)))
    except ValueError:
        raise bad_input("not a valid order id") from None


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in fields.items()}
