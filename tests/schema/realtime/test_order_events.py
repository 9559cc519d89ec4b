"""Replacements and bracket legs reach `accountUpdates` as order events (ORD-01, ORD-02, RT-01).

The broker's trade updates for a replaced order and for the exits of a bracket
travel the same way as any fill (broker stream, PostgreSQL, the subscriber), so
the PWA's lists follow an order's whole life without polling.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fixtures.inprocess import InProcessApp, InProcessSubscription
from tests.schema.realtime.test_subscriptions import _stream_connected, _update

ORDER_EVENTS = """subscription($a: UUID) {
  accountUpdates(accountId: $a) {
    __typename
    ... on OrderEvent { event order { id status orderClass legs { id } } }
  } }"""
PLACE = """mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id legs { id type } } }"""
REPLACE = """mutation($a: UUID, $o: String!, $input: ReplaceOrderInput!) {
  replaceOrder(accountId: $a, orderId: $o, input: $input) { id } }"""


async def _events_until(
    events: InProcessSubscription, done: Any, seconds: float = 10
) -> list[tuple[str, str]]:
    """(event, order id) of each order event, until `done(seen)` holds."""
    seen: list[tuple[str, str]] = []
    async with asyncio.timeout(seconds):
        while not done(seen):
            update = await _update(events)
            if update["__typename"] == "OrderEvent":
                seen.append((update["event"], update["order"]["id"]))
    return seen


async def test_ord02_rt01_a_replacement_reaches_the_subscriber(app: InProcessApp) -> None:
    """ORD-02, RT-01: replacing a resting limit sends `replaced` for the old order and the new
    order's own events, to the account's subscriber."""
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token, cash="50000")
    await asyncio.to_thread(app.sandbox.set_price, "PEP", "170")
    async with app.subscription(ORDER_EVENTS, {"a": account.id}, token=alice.token) as events:
        await _update(events)  # the snapshot comes first
        await _stream_connected(app, account.keys["account_number"])
        resting = {
            "accountId": account.id, "symbol": "PEP", "side": "BUY", "qty": "2",
            "type": "LIMIT", "limitPrice": "165", "timeInForce": "GTC",
        }  # fmt: skip
        old = (await app.data(PLACE, {"input": resting}, token=alice.token))["placeOrder"]
        change = {"a": account.id, "o": old["id"], "input": {"limitPrice": "166"}}
        new = (await app.data(REPLACE, change, token=alice.token))["replaceOrder"]
        seen = await _events_until(
            events,
            lambda s: ("replaced", old["id"]) in s and any(i == new["id"] for _, i in s),
        )
        assert new["id"] != old["id"] and ("new", old["id"]) in seen


async def test_ord01_rt01_bracket_leg_fills_and_cancels_reach_the_subscriber(
    app: InProcessApp,
) -> None:
    """ORD-01, RT-01: a bracket's take-profit filling and its stop-loss cancelled are order
    events of the legs themselves, so the orders list shows both without a reload."""
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token, cash="50000")
    await asyncio.to_thread(app.sandbox.set_price, "V", "280")
    async with app.subscription(ORDER_EVENTS, {"a": account.id}, token=alice.token) as events:
        await _update(events)
        await _stream_connected(app, account.keys["account_number"])
        bracket = {
            "accountId": account.id, "symbol": "V", "side": "BUY", "qty": "5",
            "orderClass": "BRACKET", "timeInForce": "GTC",
            "takeProfitLimitPrice": "300", "stopLossStopPrice": "265",
        }  # fmt: skip
        placed = (await app.data(PLACE, {"input": bracket}, token=alice.token))["placeOrder"]
        legs = {leg["type"]: leg["id"] for leg in placed["legs"]}
        await _events_until(events, lambda s: ("fill", placed["id"]) in s)
        await asyncio.to_thread(app.sandbox.set_price, "V", "301")
        wanted = {("fill", legs["LIMIT"]), ("canceled", legs["STOP"])}
        seen = await _events_until(events, lambda s: wanted <= set(s))
        assert wanted <= set(seen)
