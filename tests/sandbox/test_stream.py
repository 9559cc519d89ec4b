"""OPS-03: alpaca-py's TradingStream receives trade updates from the sandbox broker.

``TradingStream.run()`` calls ``asyncio.run``, so the tests run its
``_run_forever()`` as a task in their own loop and stop it with ``stop_ws()``.
alpaca-py's REST client is synchronous; it runs in a thread so the stream keeps
reading meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import msgpack
import pytest
import websockets
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import MarketOrderRequest
from alpaca.trading.stream import TradingStream

from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.clients import make_stream, make_trading_client

StreamFactory = Callable[[dict[str, str]], Awaitable[list[TradeUpdate]]]


async def _until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def _connections(sandbox: SandboxHandle, keys: dict[str, str]) -> int:
    stats = await asyncio.to_thread(sandbox.stats)
    count: int = stats[keys["account_number"]]["stream_connections"]
    return count


async def _wait_connections(sandbox: SandboxHandle, keys: dict[str, str], n: int) -> None:
    deadline = time.monotonic() + 10  # by the clock: a busy machine answers stats slowly
    while time.monotonic() < deadline:
        if await _connections(sandbox, keys) == n:
            # The count rises at authentication; give the listen message a moment.
            await asyncio.sleep(0.2)
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {n} stream connections")


@pytest.fixture
async def open_stream(sandbox: SandboxHandle) -> AsyncIterator[StreamFactory]:
    """Start TradingStreams for the test; all are stopped at its end."""
    running: list[tuple[TradingStream, asyncio.Task[None]]] = []

    async def start(keys: dict[str, str]) -> list[TradeUpdate]:
        received: list[TradeUpdate] = []

        async def on_update(update: TradeUpdate) -> None:
            received.append(update)

        stream = make_stream(sandbox, keys)
        stream.subscribe_trade_updates(on_update)
        running.append((stream, asyncio.create_task(stream._run_forever())))
        await _wait_connections(sandbox, keys, 1)
        return received

    yield start
    for stream, task in running:
        await stream.stop_ws()
        await stream.close()  # wakes the consumer at once instead of after its 5 s poll
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def _buy(symbol: str, qty: float) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=symbol, qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
    )


async def test_ops03_trading_stream_gets_new_then_fill(
    sandbox: SandboxHandle, open_stream: StreamFactory
) -> None:
    keys = sandbox.mint_account()
    received = await open_stream(keys)
    trading = make_trading_client(sandbox, keys)
    order = await asyncio.to_thread(trading.submit_order, _buy("AAPL", 3))
    await _until(lambda: len(received) >= 2)
    new, fill = received[:2]
    assert (new.event, fill.event) == ("new", "fill")
    assert new.order.id == fill.order.id == order.id
    assert fill.qty == 3 and fill.position_qty == 3
    assert fill.price == float(order.filled_avg_price)
    assert fill.execution_id is not None


async def test_ops03_events_reach_only_their_own_account(
    sandbox: SandboxHandle, open_stream: StreamFactory
) -> None:
    mine, theirs = sandbox.mint_account(), sandbox.mint_account()
    received_mine = await open_stream(mine)
    received_theirs = await open_stream(theirs)
    trading = make_trading_client(sandbox, mine)
    order = await asyncio.to_thread(trading.submit_order, _buy("KO", 1))
    await _until(lambda: len(received_mine) >= 2)
    await asyncio.sleep(0.3)
    assert received_theirs == []
    assert {u.order.id for u in received_mine} == {order.id}


async def test_ops03_cancel_and_forced_outcomes_are_streamed(
    sandbox: SandboxHandle, open_stream: StreamFactory
) -> None:
    keys = sandbox.mint_account()
    received = await open_stream(keys)
    trading = make_trading_client(sandbox, keys)
    from alpaca.trading.requests import LimitOrderRequest

    def resting() -> LimitOrderRequest:
        return LimitOrderRequest(
            symbol="NVDA", qty=4, side="buy", time_in_force="gtc", limit_price=60
        )

    first = await asyncio.to_thread(trading.submit_order, resting())
    await asyncio.to_thread(trading.cancel_order_by_id, first.id)
    second = await asyncio.to_thread(trading.submit_order, resting())
    await asyncio.to_thread(sandbox.force_order, str(second.id), "fill", qty="1")
    await asyncio.to_thread(sandbox.force_order, str(second.id), "expire")
    third = await asyncio.to_thread(trading.submit_order, resting())
    await asyncio.to_thread(sandbox.force_order, str(third.id), "reject")
    await _until(lambda: len(received) >= 7)
    events = [str(u.event.value if hasattr(u.event, "value") else u.event) for u in received]
    assert events == ["new", "canceled", "new", "partial_fill", "expired", "new", "rejected"]


async def test_ops03_stream_connections_are_counted_and_dropped(
    sandbox: SandboxHandle, open_stream: StreamFactory
) -> None:
    keys = sandbox.mint_account()
    received = await open_stream(keys)
    await open_stream(keys)
    await _wait_connections(sandbox, keys, 2)
    dropped = await asyncio.to_thread(sandbox.set_faults, drop_streams=True)
    assert dropped["dropped_streams"] >= 2
    for _ in range(100):  # the drop is seen before alpaca-py's reconnect backoff (>= 1 s) ends
        if await _connections(sandbox, keys) < 2:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("streams were not dropped")
    # alpaca-py reconnects by itself; events flow again on the new connections.
    await _wait_connections(sandbox, keys, 2)
    trading = make_trading_client(sandbox, keys)
    await asyncio.to_thread(trading.submit_order, _buy("KO", 1))
    await _until(lambda: [u.event for u in received][-1:] == ["fill"])


async def test_ops03_stream_refuses_keys_of_the_other_environment(sandbox: SandboxHandle) -> None:
    keys = sandbox.mint_account("live")
    async with websockets.connect(sandbox.paper_stream_url) as ws:
        auth = {
            "action": "authenticate",
            "data": {"key_id": keys["api_key_id"], "secret_key": keys["secret_key"]},
        }
        await ws.send(json.dumps(auth))
        answer = json.loads(await ws.recv())
        assert answer == {
            "stream": "authorization",
            "data": {"action": "authenticate", "status": "unauthorized"},
        }
    assert await _connections(sandbox, keys) == 0


async def test_ops03_msgpack_clients_are_answered_in_msgpack(sandbox: SandboxHandle) -> None:
    keys = sandbox.mint_account()
    # The bare environment path works too: alpaca-py uses url_override as the whole URL.
    async with websockets.connect(sandbox.paper_url.replace("http", "ws", 1)) as ws:
        auth = {
            "action": "authenticate",
            "data": {"key_id": keys["api_key_id"], "secret_key": keys["secret_key"]},
        }
        await ws.send(msgpack.packb(auth))
        assert msgpack.unpackb(await ws.recv())["data"]["status"] == "authorized"
        await ws.send(msgpack.packb({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert msgpack.unpackb(await ws.recv()) == {
            "stream": "listening",
            "data": {"streams": ["trade_updates"]},
        }
        trading = make_trading_client(sandbox, keys)
        await asyncio.to_thread(trading.submit_order, _buy("KO", 1))
        events = [msgpack.unpackb(await ws.recv())["data"]["event"] for _ in range(2)]
        assert events == ["new", "fill"]
