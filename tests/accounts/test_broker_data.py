"""Snapshot, positions and orders come from the selected account (DISP-01..03, TRADE-03..05)."""

from __future__ import annotations

import time
from decimal import Decimal

from tests.fixtures.trading import ORDER_FIELDS, PLACE_ORDER, Trader

SNAPSHOT = """query($id: UUID!) { account(id: $id) { environment snapshot {
  cash equity buyingPower portfolioValue lastEquity currency status asOf
  tradingBlocked patternDayTrader dayChange } } }"""
POSITIONS = """query($id: UUID) { positions(accountId: $id) { symbol qty side avgEntryPrice
  currentPrice marketValue unrealizedPl unrealizedPlpc changeToday } }"""
ORDERS = f"""query($id: UUID, $s: OrderStatusFilter!) {{
  orders(accountId: $id, status: $s) {{ {ORDER_FIELDS} }} }}"""


def test_snapshot_equals_the_brokers_numbers(make_trader, sandbox) -> None:
    """DISP-01..03: type, cash, equity, buying power as the sandbox reports them."""
    alice: Trader = make_trader("alice@example.com")
    keys = alice.mint(
        "paper", cash="25000", positions=[{"symbol": "MSFT", "qty": "3", "avg_entry_price": "300"}]
    )
    account = alice.add_account("Main", keys=keys)
    snapshot = alice.data(SNAPSHOT, {"id": account["id"]})["account"]
    broker = sandbox.account(keys["account_number"])
    assert snapshot["environment"] == "PAPER"
    shown = snapshot["snapshot"]
    for ours, theirs in (
        ("cash", "cash"),
        ("buyingPower", "buying_power"),
        ("lastEquity", "last_equity"),
    ):
        assert Decimal(shown[ours]) == Decimal(broker[theirs]), ours
    assert isinstance(shown["cash"], str), "money is a Decimal string, never a float"
    assert shown["currency"] == "USD" and shown["status"] == "ACTIVE"
    assert shown["tradingBlocked"] is False


def test_positions_and_orders_after_trading(make_trader, sandbox) -> None:
    """TRADE-03, TRADE-04, TRADE-05: fills, resting orders and cancels show on this account."""
    alice: Trader = make_trader("alice@example.com")
    account = alice.add_account("Main")
    alice.add_account("Other")  # its (empty) data must never mix in

    bought = alice.data(PLACE_ORDER, {"input": {"symbol": "AAPL", "side": "BUY", "qty": "2"}})
    assert bought["placeOrder"]["clientOrderId"], "every order carries a client order id"
    resting = alice.data(
        PLACE_ORDER,
        {
            "input": {
                "symbol": "NVDA",
                "side": "BUY",
                "qty": "1",
                "type": "LIMIT",
                "limitPrice": "1.00",
            }
        },
    )["placeOrder"]
    assert resting["status"] in ("new", "accepted")

    deadline = time.monotonic() + 5
    while True:
        positions = alice.data(POSITIONS, {"id": account["id"]})["positions"]
        if positions or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [(p["symbol"], Decimal(p["qty"])) for p in positions] == [("AAPL", Decimal(2))]

    open_orders = alice.data(ORDERS, {"id": account["id"], "s": "OPEN"})["orders"]
    assert [o["id"] for o in open_orders] == [resting["id"]]
    cancelled = alice.data(
        "mutation($o: String!) { cancelOrder(orderId: $o) }", {"o": resting["id"]}
    )
    assert cancelled == {"cancelOrder": True}
    closed = alice.data(ORDERS, {"id": account["id"], "s": "CLOSED"})["orders"]
    statuses = {o["id"]: o["status"] for o in closed}
    assert statuses[resting["id"]] == "canceled"
    assert statuses[bought["placeOrder"]["id"]] == "filled"
    assert alice.data(ORDERS, {"id": account["id"], "s": "OPEN"})["orders"] == []
    other = alice.data("{ accounts { id } }")["accounts"][1]["id"]
    assert alice.data(POSITIONS, {"id": other})["positions"] == []
    assert alice.data(ORDERS, {"id": other, "s": "ALL"})["orders"] == []


def test_snapshot_positions_and_orders_resolve_concurrently(make_trader, sandbox) -> None:
    """With 200 ms broker latency, the three together take about as long as one."""
    alice: Trader = make_trader("alice@example.com")
    account = alice.add_account("Main")
    one = "query($id: UUID!) { account(id: $id) { snapshot { cash } } }"
    together = """query($id: UUID!) { account(id: $id) { snapshot { cash } }
      positions(accountId: $id) { symbol } orders(accountId: $id, status: ALL) { id } }"""
    sandbox.set_faults(latency_ms=200)
    alice.data(one, {"id": account["id"]})  # warm connections
    started = time.perf_counter()
    alice.data(one, {"id": account["id"]})
    single = time.perf_counter() - started
    started = time.perf_counter()
    alice.data(together, {"id": account["id"]})
    combined = time.perf_counter() - started
    assert combined < 1.5 * single, (combined, single)
