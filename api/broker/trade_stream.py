"""alpaca-py's trade-update stream, run inside the server's event loop without holding keys.

`TradingStream.run()` starts an event loop of its own, which a server cannot
use, and the class keeps `_api_key`/`_secret_key` on itself for every
reconnect, which CRED-02 forbids for a long-lived object. `KeylessTradingStream`
keeps alpaca-py's connection loop (`_run_forever`: it reconnects by itself with
jittered exponential backoff, 1 s to 30 s) and replaces only the
authentication step: on every (re)connect it asks a callback for the keys,
which decrypts them at that moment, sends them, and drops them.

Trade updates arrive raw (`raw_data=True`) and are parsed here with the
gateway's own parser, so prices and quantities become `Decimal` from the
broker's strings and nothing outside `api/broker/` sees an alpaca-py model.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from alpaca.trading.stream import TradingStream
from websockets.exceptions import WebSocketException

from api.broker import parse
from api.broker.models import BrokerOrder

log = logging.getLogger(__name__)

Credentials = Callable[[], Awaitable[tuple[str, str] | None]]


class StreamRetryLater(WebSocketException):
    """The keys cannot be read right now (the database is out of reach): try again later.

    A websockets error, so alpaca-py's loop (`TradingStream._run_forever`, pinned in
    tests/test_internals.py) logs one warning line and reconnects with backoff, where
    any other exception is logged with a traceback (OPS-01: no traceback per failed attempt).
    """


class StreamAuthError(ValueError):
    """The broker refused the keys, or the account no longer has any.

    A ValueError, so alpaca-py's loop logs it and retries with backoff (the
    keys may be replaced meanwhile: ACCT-04).
    """


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """One message of the trade_updates stream, in the gateway's types."""

    event: str
    order: BrokerOrder
    at: datetime | None
    price: Decimal | None
    qty: Decimal | None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)


def trade_update(message: Any) -> TradeUpdate:
    """Parse `{"stream": "trade_updates", "data": {...}}`; BROKER_UNAVAILABLE if unreadable."""

    def build() -> TradeUpdate:
        data = message["data"]
        event = data["event"]
        if not isinstance(event, str):
            raise TypeError("event must be a string")
        return TradeUpdate(
            event=event,
            order=parse.order(data["order"]),
            at=_timestamp(data.get("timestamp")),
            price=parse.dec(data.get("price")),
            qty=parse.dec(data.get("qty")),
        )

    return parse.parsed(build)


class KeylessTradingStream(TradingStream):
    """A TradingStream whose keys exist only while it authenticates (CRED-02).

    Run `_run_forever()` as a task; to stop it, `stop_ws()`, cancel the task and
    `close()`. `on_update` gets each raw trade_updates message; `on_connected` is
    called after every successful (re)connect, so the owner can reconcile;
    `on_refused` when the broker refuses the keys (they were revoked or replaced).
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        on_update: Callable[[dict[str, Any]], Awaitable[None]],
        on_connected: Callable[[], None],
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        # Empty keys: the parent stores whatever it is given, so it is given nothing.
        super().__init__("", "", raw_data=True, url_override=url)
        self._credentials = credentials
        self._on_update = on_update
        self._on_connected = on_connected
        self._on_refused = on_refused
        self.connects = 0
        # True from a successful (re)connect until the socket is closed (alpaca-py closes
        # it before every reconnect): whether trade updates can arrive right now.
        self.connected = False
        self.subscribe_trade_updates(self._deliver)

    async def _deliver(self, message: dict[str, Any]) -> None:
        await self._on_update(message)

    async def _auth(self) -> None:
        await self._send_keys()
        reply = json.loads(await self._ws.recv())  # type: ignore[attr-defined]
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, dict) or data.get("status") != "authorized":
            if self._on_refused is not None:
                self._on_refused()
            raise StreamAuthError("the broker refused this account's keys for its stream")

    async def _send_keys(self) -> None:
        keys = await self._credentials()
        if keys is None:
            raise StreamAuthError("the account has no stored keys any more")
        try:
            await self._ws.send(  # type: ignore[attr-defined]
                json.dumps(
                    {"action": "authenticate", "data": {"key_id": keys[0], "secret_key": keys[1]}}
                )
            )
        finally:
            # Even if sending fails and a traceback keeps this frame alive, it keeps no keys.
            keys = None

    async def _start_ws(self) -> None:
        await super()._start_ws()
        self.connects += 1
        self.connected = True
        self._on_connected()

    async def close(self) -> None:
        self.connected = False
        await super().close()
