"""The trade-update WebSocket, speaking the protocol alpaca-py's TradingStream uses.

A client sends ``{"action": "authenticate", "data": {"key_id", "secret_key"}}``
and then ``{"action": "listen", "data": {"streams": ["trade_updates"]}}``; it
then receives ``{"stream": "trade_updates", "data": {...}}`` for its own account
only. alpaca-py sends JSON text frames; other clients send JSON or msgpack in binary
frames, and each connection is answered in the framing it used. Several connections per
account are allowed, but counted, so tests can prove the product opens exactly
one broker stream per account.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import msgpack
from starlette.websockets import WebSocket, WebSocketDisconnect

from api.sandbox.engine import Broker
from api.sandbox.records import SandboxAccount, TradeEvent
from api.sandbox.wire import trade_update

log = logging.getLogger(__name__)

_AUTH_TIMEOUT_SECONDS = 10.0
_QUEUE_SIZE = 1024


@dataclass(eq=False)
class _Connection:
    websocket: WebSocket
    codec: str = "text"  # "text" (JSON text frames), "json" (JSON binary frames) or "msgpack"
    listening: bool = False
    outbox: asyncio.Queue[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.Queue(_QUEUE_SIZE)
    )

    def offer(self, message: dict[str, Any] | None) -> None:
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            # A client that stopped reading loses events rather than stalling the engine.
            log.warning("trade update dropped: a stream client is not reading")


class StreamHub:
    """Open, authenticated stream connections, grouped by account number."""

    def __init__(self) -> None:
        self._by_account: dict[str, set[_Connection]] = defaultdict(set)

    def count(self, account_number: str) -> int:
        return len(self._by_account.get(account_number, ()))

    def publish(self, event: TradeEvent) -> None:
        message = trade_update(event)
        for connection in self._by_account.get(event.account.account_number, ()):
            if connection.listening:
                connection.offer(message)

    def drop_all(self) -> int:
        """Close every open connection (the ``drop_streams`` fault); returns how many."""
        connections = [c for group in self._by_account.values() for c in group]
        for connection in connections:
            connection.offer(None)
        return len(connections)

    def _add(self, account: SandboxAccount, connection: _Connection) -> None:
        self._by_account[account.account_number].add(connection)

    def _remove(self, account: SandboxAccount, connection: _Connection) -> None:
        group = self._by_account.get(account.account_number)
        if group is not None:
            group.discard(connection)
            if not group:
                del self._by_account[account.account_number]


async def serve_stream(
    websocket: WebSocket, broker: Broker, hub: StreamHub, environment: str
) -> None:
    """Run one stream connection from the handshake to its close."""
    await websocket.accept()
    connection = _Connection(websocket)
    try:
        account = await _authenticate(connection, broker, environment)
    except (WebSocketDisconnect, TimeoutError):
        return
    if account is None:
        await websocket.close(code=1008)
        return
    hub._add(account, connection)
    try:
        await _pump(connection)
    finally:
        hub._remove(account, connection)


async def _authenticate(
    connection: _Connection, broker: Broker, environment: str
) -> SandboxAccount | None:
    message = await asyncio.wait_for(_receive(connection), _AUTH_TIMEOUT_SECONDS)
    data = message.get("data") if isinstance(message, dict) else None
    account = None
    if (
        isinstance(message, dict)
        and message.get("action") in {"authenticate", "auth"}
        and isinstance(data, dict)
    ):
        account = broker.accounts.authenticate(
            data.get("key_id"), data.get("secret_key"), environment
        )
    status = "authorized" if account is not None else "unauthorized"
    await _send(
        connection,
        {"stream": "authorization", "data": {"action": "authenticate", "status": status}},
    )
    return account


async def _pump(connection: _Connection) -> None:
    """Read client messages and write queued events until either side ends."""
    reader = asyncio.create_task(_read_loop(connection))
    writer = asyncio.create_task(_write_loop(connection))
    done, pending = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if not task.cancelled() and isinstance(task.exception(), WebSocketDisconnect):
            return
    with contextlib.suppress(RuntimeError):  # the client may have closed first
        await connection.websocket.close(code=1001)


async def _read_loop(connection: _Connection) -> None:
    while True:
        message = await _receive(connection)
        if not isinstance(message, dict) or message.get("action") != "listen":
            continue
        streams = (message.get("data") or {}).get("streams") or []
        connection.listening = "trade_updates" in streams
        listened = ["trade_updates"] if connection.listening else []
        await _send(connection, {"stream": "listening", "data": {"streams": listened}})


async def _write_loop(connection: _Connection) -> None:
    while True:
        message = await connection.outbox.get()
        if message is None:
            return
        await _send(connection, message)


async def _receive(connection: _Connection) -> Any:
    frame = await connection.websocket.receive()
    if frame["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(frame.get("code", 1000))
    if frame.get("text") is not None:
        return _loads_json(frame["text"])
    raw: bytes = frame.get("bytes") or b""
    try:
        message = json.loads(raw)
        connection.codec = "json"
        return message
    except ValueError:
        pass
    try:
        message = msgpack.unpackb(raw)
        connection.codec = "msgpack"
        return message
    except (ValueError, msgpack.UnpackException):
        return None


def _loads_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


async def _send(connection: _Connection, message: dict[str, Any]) -> None:
    if connection.codec == "msgpack":
        await connection.websocket.send_bytes(msgpack.packb(message))
    elif connection.codec == "json":
        await connection.websocket.send_bytes(json.dumps(message).encode())
    else:
        await connection.websocket.send_text(json.dumps(message))
