"""accountUpdates and activeAccountChanged over graphql-transport-ws, one server (RT-01, DISP-02).

The broker is the sandbox; an order placed through `placeOrder` travels the
whole way: sandbox trade-update stream → this server's stream supervisor →
pg_notify → the event bus → the subscriber's WebSocket.
"""

from __future__ import annotations

import time
from decimal import Decimal

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import GraphQLWebSocket
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


async def test_rt01_new_then_fill_within_a_second_and_a_fresh_snapshot(
    make_trader, sandbox: SandboxHandle
) -> None:
    """RT-01, DISP-02: the subscriber first gets the current snapshot, then `new` and `fill`
    of an order placed through placeOrder within a second, then a snapshot with less cash."""
    trader = make_trader("rt01@example.com")
    account = trader.add_account("Main")
    number = trader.keys[account["id"]]["account_number"]
    async with GraphQLWebSocket.connect(trader.server, token=trader.token) as ws:
        await ws.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
        first = await next_update(ws)
        assert first["__typename"] == "SnapshotEvent"
        assert first["accountId"] == account["id"]
        cash_before = Decimal(first["snapshot"]["cash"])
        await wait_until(lambda: stream_connections(sandbox, number) == 1)

        started = time.monotonic()
        placed = await trader.server.agql(
            PLACE_ORDER, market_buy(account["id"]), token=trader.token
        )
        order_id = placed["data"]["placeOrder"]["id"]
        seen = await updates_until(ws, order_event(order_id, "fill"), seconds=5)
        assert time.monotonic() - started < 1.0
        events = [u["event"] for u in seen if u["__typename"] == "OrderEvent"]
        assert events == ["new", "fill"]
        assert seen[-1]["order"]["status"] == "filled"

        after = await updates_until(ws, lambda u: u["__typename"] == "SnapshotEvent", seconds=3)
        assert Decimal(after[-1]["snapshot"]["cash"]) < cash_before
        assert "PositionsChangedEvent" in {u["__typename"] for u in seen + after}
