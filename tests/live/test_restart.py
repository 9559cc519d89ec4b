"""What happens at the broker while no server runs still reaches subscribers (RT-01, RT-03).

A subscriber watches an account on a server; the server stops cleanly; orders
are placed at the sandbox directly, with the account's own keys, as another
client of the broker would; a server starts again on the same database and the
subscriber reconnects. The order events it missed arrive after its snapshot,
all of them, even when more changed than one page of the broker's orders holds.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from api.live.ledger import SKEW_MARGIN
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import GraphQLWebSocket, RunningServer, StartServer, signed_up_user
from tests.fixtures.trading import Trader, broker_env
from tests.live.conftest import ACCOUNT_UPDATES, next_update, stream_connections, wait_until


async def _watched_until_stopped(
    start_server: StartServer, sandbox: SandboxHandle, known_secrets: set, owner: asyncpg.Connection
) -> tuple[Trader, dict[str, Any]]:
    """A trader whose account a subscriber watched on a server that then stopped cleanly."""
    server = start_server(env=broker_env(sandbox))
    trader = Trader(server, sandbox, signed_up_user(server, "restart@example.com"), known_secrets)
    account = trader.add_account("Main")
    number = trader.keys[account["id"]]["account_number"]
    async with GraphQLWebSocket.connect(server, token=trader.token) as ws:
        await ws.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
        assert (await next_update(ws))["__typename"] == "SnapshotEvent"
        await wait_until(lambda: stream_connections(sandbox, number) == 1)
        # the stream's owner has reconciled once and stored how far it reported
        async with asyncio.timeout(10):
            while not await owner.fetchval("select count(*) from app.stream_marks"):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    server.stop()
    return trader, account


def _place_at_the_broker(sandbox: SandboxHandle, keys: dict[str, str], count: int) -> list[str]:
    """Limit buys far below the price (they stay open), straight at the sandbox's REST API."""
    headers = {"APCA-API-KEY-ID": keys["api_key_id"], "APCA-API-SECRET-KEY": keys["secret_key"]}
    body = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "limit", "time_in_force": "gtc"}
    with httpx.Client(base_url=sandbox.paper_url, headers=headers, timeout=10) as client:
        placed = [
            client.post("/v2/orders", json={**body, "limit_price": "1.00"}) for _ in range(count)
        ]
    for answer in placed:
        answer.raise_for_status()
    return [answer.json()["id"] for answer in placed]


async def _order_ids_heard(
    server: RunningServer, trader: Trader, account: dict[str, Any], expected: set[str]
) -> set[str]:
    """Reconnect to `server`, and collect the orders of OrderEvents until `expected` are all
    heard or nothing more comes for 15 s."""
    heard: set[str] = set()
    async with GraphQLWebSocket.connect(server, token=trader.token) as ws:
        await ws.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
        assert (await next_update(ws))["__typename"] == "SnapshotEvent"
        try:
            while not expected <= heard:
                update = await next_update(ws, seconds=15)
                if update["__typename"] == "OrderEvent":
                    heard.add(update["order"]["id"])
        except TimeoutError:
            pass
    return heard


async def test_rt01_an_order_placed_while_no_server_ran_is_announced_on_reconnect(
    start_server: StartServer,
    sandbox: SandboxHandle,
    known_secrets: set,
    owner: asyncpg.Connection,
) -> None:
    """RT-01, RT-03: before, the restarted server's ledger began at its own start and the
    order placed during the restart produced no event and no resync."""
    trader, account = await _watched_until_stopped(start_server, sandbox, known_secrets, owner)
    (order_id,) = _place_at_the_broker(sandbox, trader.keys[account["id"]], 1)
    # longer down than the margin a ledger allows for clock skew (api/live/ledger.py)
    await asyncio.sleep(SKEW_MARGIN.total_seconds() + 1)
    restarted = start_server(env=broker_env(sandbox))
    trader.server = restarted
    assert await _order_ids_heard(restarted, trader, account, {order_id}) == {order_id}


async def test_rt01_more_than_a_page_of_orders_changed_while_down_are_all_announced(
    start_server: StartServer,
    sandbox: SandboxHandle,
    known_secrets: set,
    owner: asyncpg.Connection,
) -> None:
    """RT-01: 120 orders placed while no server ran all arrive as order events; before,
    reconciliation read only the newest 100. (Fewer than a subscriber's queue holds, 128:
    a longer burst reaches a slow subscriber as a resync, api/realtime/queues.py.)"""
    trader, account = await _watched_until_stopped(start_server, sandbox, known_secrets, owner)
    keys = trader.keys[account["id"]]
    sandbox.set_faults(rate_limit_per_minute=2000, key_id=keys["api_key_id"])
    placed = set(_place_at_the_broker(sandbox, keys, 120))
    restarted = start_server(env=broker_env(sandbox))
    trader.server = restarted
    heard = await _order_ids_heard(restarted, trader, account, placed)
    assert len(placed & heard) == 120
