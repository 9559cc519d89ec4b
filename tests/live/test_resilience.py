"""A dropped broker stream and a slow subscriber lose nothing and slow no one (RT-01, RT-03)."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit
from uuid import UUID

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from api.db import Database
from api.realtime import SnapshotEvent, publish_many
from tests.fixtures.postgres import runtime_database_url
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import GraphQLWebSocket, RunningServer
from tests.fixtures.trading import PLACE_ORDER
from tests.live.conftest import (
    ACCOUNT_UPDATES,
    market_buy,
    next_update,
    order_event,
    stream_connections,
    updates_until,
    wait_until,
)

ME = "query { me { id } }"


async def test_rt03_dropped_stream_reconnects_and_an_order_filled_in_the_gap_is_reported(
    make_trader, sandbox: SandboxHandle
) -> None:
    """RT-03, RT-01: the sandbox drops its trade streams; an order placed and filled while no
    stream is connected still reaches the subscriber (reconciliation after the reconnect),
    and the stream is back."""
    trader = make_trader("drop@example.com")
    account = trader.add_account("Main")
    number = trader.keys[account["id"]]["account_number"]
    async with GraphQLWebSocket.connect(trader.server, token=trader.token) as ws:
        await ws.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
        assert (await next_update(ws))["__typename"] == "SnapshotEvent"
        await wait_until(lambda: stream_connections(sandbox, number) == 1)

        # every open stream drops, this account's among them (other tests may hold some)
        assert sandbox.set_faults(drop_streams=True)["dropped_streams"] >= 1
        await wait_until(lambda: stream_connections(sandbox, number) == 0, every=0.01)
        # alpaca-py waits at least half a second before reconnecting: this is in the gap.
        placed = await trader.server.agql(
            PLACE_ORDER, market_buy(account["id"]), token=trader.token
        )
        order_id = placed["data"]["placeOrder"]["id"]
        assert placed["data"]["placeOrder"]["status"] == "filled"
        assert stream_connections(sandbox, number) == 0, "the order was not placed in the gap"

        seen = await updates_until(ws, order_event(order_id, "fill"), seconds=10)
        assert seen[-1]["order"]["status"] == "filled"
        assert stream_connections(sandbox, number) == 1


async def slow_subscriber(server: RunningServer, token: str, account_id: str) -> ClientConnection:
    """A WebSocket that subscribes and then never reads, with small buffers on our side."""
    address = urlsplit(server.url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    sock.setblocking(False)
    connection = await ws_connect(
        server.ws_url,
        sock=sock,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_queue=1,
    )
    await connection.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    await connection.recv()  # connection_ack; nothing is read after this
    subscribe = {"query": ACCOUNT_UPDATES, "variables": {"accountId": account_id}}
    await connection.send(json.dumps({"id": "slow", "type": "subscribe", "payload": subscribe}))
    return connection


def snapshots(account_id: UUID, owner_id: UUID, count: int) -> list[SnapshotEvent]:
    now = datetime.now(UTC)
    return [
        SnapshotEvent(account_id, owner_id, *[Decimal(n)] * 5, "USD", "ACTIVE", now, False, False)
        for n in range(count)
    ]


async def test_a_slow_subscriber_does_not_delay_a_fast_one(
    make_trader, sandbox: SandboxHandle
) -> None:
    """RT-01 under load: a subscriber that stops reading while thousands of snapshots are
    published for its account does not delay another subscriber's order events."""
    trader = make_trader("slow@example.com")
    account = trader.add_account("Main")
    number = trader.keys[account["id"]]["account_number"]
    owner = UUID(trader.data(ME)["me"]["id"])
    # published straight into the server's own database, as another process would
    database = Database(
        trader.server.database_url, runtime_database_url(trader.server.database_url)
    )
    await database.connect(min_size=1, max_size=2)
    try:
        async with GraphQLWebSocket.connect(trader.server, token=trader.token) as fast:
            await fast.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
            assert (await next_update(fast))["__typename"] == "SnapshotEvent"
            slow = await slow_subscriber(trader.server, trader.token, account["id"])
            await wait_until(lambda: stream_connections(sandbox, number) == 1)

            burst = snapshots(UUID(account["id"]), owner, 5000)
            async with database.pool.acquire() as conn:
                for start in range(0, len(burst), 500):
                    await publish_many(conn, burst[start : start + 500])
            started = time.monotonic()
            placed = await trader.server.agql(
                PLACE_ORDER, market_buy(account["id"]), token=trader.token
            )
            order_id = placed["data"]["placeOrder"]["id"]
            await updates_until(fast, order_event(order_id, "fill"), seconds=5)
            assert time.monotonic() - started < 1.0
            assert slow.state.name == "OPEN"  # still connected, merely not reading
            slow.transport.abort()
    finally:
        await database.close()
