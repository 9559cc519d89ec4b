"""Two server processes on one database (RT-02, RT-03).

Both run the real server as subprocesses with the sandbox as broker; events
cross between them only through PostgreSQL LISTEN/NOTIFY, and the account's
trade-update stream has one owner between them, chosen by advisory lock.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import GraphQLWebSocket, RunningServer, StartServer, signed_up_user
from tests.fixtures.trading import PLACE_ORDER, Trader, broker_env
from tests.live.conftest import (
    ACCOUNT_UPDATES,
    ACTIVE_ACCOUNT_CHANGED,
    SET_ACTIVE,
    market_buy,
    next_update,
    order_event,
    stream_connections,
    updates_until,
    wait_until,
)


@pytest.fixture
def make_trader(trading_server: RunningServer, sandbox: SandboxHandle, known_secrets: set):
    """Users of this test's own server (`trading_server`): these tests kill server processes,
    so they do not use the package's shared one."""

    def make(email: str) -> Trader:
        token = signed_up_user(trading_server, email)
        return Trader(trading_server, sandbox, token, known_secrets)

    return make


@pytest.fixture
def second_server(
    trading_server: RunningServer, start_server: StartServer, sandbox: SandboxHandle
) -> RunningServer:
    """Another process on the first one's database, trading on the same sandbox."""
    return start_server(database_url=trading_server.database_url, env=broker_env(sandbox))


async def test_rt02_events_reach_a_subscriber_on_another_process(
    make_trader, second_server: RunningServer, sandbox: SandboxHandle
) -> None:
    """RT-02: an order placed through process 2 reaches a subscriber of process 1 (new, then
    fill); a switch of the active account on process 2 reaches process 1's subscriber."""
    trader = make_trader("rt02@example.com")
    main = trader.add_account("Main")
    other = trader.add_account("Other")
    number = trader.keys[main["id"]]["account_number"]
    async with GraphQLWebSocket.connect(trader.server, token=trader.token) as ws:
        await ws.subscribe(ACCOUNT_UPDATES, {"accountId": main["id"]})
        assert (await next_update(ws))["__typename"] == "SnapshotEvent"
        await wait_until(lambda: stream_connections(sandbox, number) == 1)

        placed = await second_server.agql(PLACE_ORDER, market_buy(main["id"]), token=trader.token)
        order_id = placed["data"]["placeOrder"]["id"]
        seen = await updates_until(ws, order_event(order_id, "fill"), seconds=5)
        assert [u["event"] for u in seen if u["__typename"] == "OrderEvent"] == ["new", "fill"]

    async with GraphQLWebSocket.connect(trader.server, token=trader.token) as ws:
        operation = await ws.subscribe(ACTIVE_ACCOUNT_CHANGED)
        await asyncio.sleep(0.3)  # graphql-transport-ws has no "subscribed" acknowledgement
        switched = await second_server.agql(SET_ACTIVE, {"id": other["id"]}, token=trader.token)
        assert "errors" not in switched, switched
        message = await ws.receive(3)
        assert message["id"] == operation and message["type"] == "next", message
        assert message["payload"]["data"]["activeAccountChanged"] == {
            "id": other["id"],
            "nickname": "Other",
            "isActive": True,
        }


async def test_rt03_one_broker_stream_per_account_and_handover_when_its_owner_dies(
    make_trader, second_server: RunningServer, sandbox: SandboxHandle
) -> None:
    """RT-03: with a subscriber on each process there is exactly one trade stream to the broker;
    killing the process that owns it hands the stream to the other, and events keep flowing."""
    trader = make_trader("rt03@example.com")
    account = trader.add_account("Main")
    number = trader.keys[account["id"]]["account_number"]
    first = trader.server
    async with (
        GraphQLWebSocket.connect(first, token=trader.token) as ws1,
        GraphQLWebSocket.connect(second_server, token=trader.token) as ws2,
    ):
        await ws1.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
        assert (await next_update(ws1))["__typename"] == "SnapshotEvent"
        await wait_until(lambda: stream_connections(sandbox, number) == 1)  # process 1 owns it
        await ws2.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
        assert (await next_update(ws2))["__typename"] == "SnapshotEvent"
        # Process 2 tries the lock about every second: give it several chances to be wrong.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert stream_connections(sandbox, number) == 1
            await asyncio.sleep(0.1)

        first.process.kill()
        first.process.wait()
        await wait_until(lambda: stream_connections(sandbox, number) == 0, seconds=5)
        handover = await wait_until(lambda: stream_connections(sandbox, number) == 1, seconds=10)
        assert handover < 5

        placed = await second_server.agql(
            PLACE_ORDER, market_buy(account["id"]), token=trader.token
        )
        order_id = placed["data"]["placeOrder"]["id"]
        seen = await updates_until(ws2, order_event(order_id, "fill"), seconds=5)
        assert [u["event"] for u in seen if u["__typename"] == "OrderEvent"][-2:] == ["new", "fill"]
        assert stream_connections(sandbox, number) == 1
