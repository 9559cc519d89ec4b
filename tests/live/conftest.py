"""Helpers for the subscriptions over a real WebSocket to running servers (RT, ISO-03).

Every test here talks graphql-transport-ws to server subprocesses whose broker
is the sandbox; nothing in-process except the CRED-02 supervisor test.

`make_trader` signs up a user of one server shared by the package (starting a
server costs seconds; no test here needs an empty install): `rt01@example.com`
becomes `rt01-<n>@example.com`, and each test watches only its own accounts.
test_processes.py, which kills servers, gives each test servers of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fixtures.postgres import Cluster
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import GraphQLWebSocket, RunningServer
from tests.fixtures.trading import Trader, serve_shared_trading, unique_traders

ACCOUNT_UPDATES = """
subscription Updates($accountId: UUID) {
  accountUpdates(accountId: $accountId) {
    __typename
    ... on SnapshotEvent { accountId snapshot { cash equity buyingPower asOf } }
    ... on OrderEvent { accountId event order { id clientOrderId symbol status filledQty } }
    ... on PositionsChangedEvent { accountId }
    ... on ResyncEvent { accountId reason }
  }
}"""
ACTIVE_ACCOUNT_CHANGED = "subscription { activeAccountChanged { id nickname isActive } }"
SET_ACTIVE = "mutation Set($id: UUID!) { setActiveAccount(id: $id) { id } }"
REMOVE_ACCOUNT = "mutation Remove($id: UUID!) { removeAccount(id: $id) }"
SIGN_OUT = "mutation { signOut }"


@pytest.fixture(scope="package")
def shared_trading_server(
    pg_cluster: Cluster, sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from serve_shared_trading(pg_cluster, sandbox, tmp_path_factory.mktemp("realtime"))


@pytest.fixture
def make_trader(
    shared_trading_server: RunningServer, sandbox: SandboxHandle, known_secrets: set
) -> Callable[[str], Trader]:
    return unique_traders(shared_trading_server, sandbox, known_secrets)


def market_buy(account_id: str, symbol: str = "AAPL", qty: str = "1") -> dict[str, Any]:
    return {"input": {"accountId": account_id, "symbol": symbol, "side": "BUY", "qty": qty}}


def stream_connections(sandbox: SandboxHandle, account_number: str) -> int:
    stats = sandbox.stats().get(account_number) or {}
    return int(stats.get("stream_connections", 0))


async def wait_until(check: Callable[[], bool], seconds: float = 10, every: float = 0.05) -> float:
    """Poll `check` (a blocking call is fine: it is quick) until true; returns the wait."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"condition not met within {seconds}s")
        await asyncio.sleep(every)
    return time.monotonic() - started


async def next_update(ws: GraphQLWebSocket, seconds: float = 10) -> dict[str, Any]:
    """The next accountUpdates payload (fails on an error or a completion)."""
    message = await ws.receive(seconds)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]["accountUpdates"]


async def updates_until(
    ws: GraphQLWebSocket, done: Callable[[dict[str, Any]], bool], seconds: float = 10
) -> list[dict[str, Any]]:
    """accountUpdates payloads received until one satisfies `done` (included)."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while True:
        update = await next_update(ws, max(0.01, deadline - time.monotonic()))
        received.append(update)
        if done(update):
            return received


def order_event(order_id: str, event: str) -> Callable[[dict[str, Any]], bool]:
    return lambda u: (
        u["__typename"] == "OrderEvent" and u["order"]["id"] == order_id and u["event"] == event
    )


async def drain(ws: GraphQLWebSocket, seconds: float) -> list[dict[str, Any]]:
    """Every message received within `seconds`."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            messages.append(await ws.receive(left))
        except TimeoutError:
            break
    return messages
