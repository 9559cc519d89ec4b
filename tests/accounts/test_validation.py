"""TRADE-02: every rule refuses the order with BAD_USER_INPUT and nothing reaches the broker."""

from __future__ import annotations

import pytest

from tests.fixtures.trading import PLACE_ORDER, Trader, code_of

REFUSED = [
    ("unknown symbol", {"symbol": "ZZZZQ", "side": "BUY", "qty": "1"}),
    ("not tradable", {"symbol": "TWTR", "side": "BUY", "qty": "1"}),
    ("fraction of a whole-share stock", {"symbol": "GME", "side": "BUY", "qty": "0.5"}),
    ("qty and notional", {"symbol": "AAPL", "side": "BUY", "qty": "1", "notional": "100"}),
    ("neither qty nor notional", {"symbol": "AAPL", "side": "BUY"}),
    ("negative qty", {"symbol": "AAPL", "side": "BUY", "qty": "-1"}),
    ("zero notional", {"symbol": "AAPL", "side": "BUY", "notional": "0"}),
    ("limit without price", {"symbol": "AAPL", "side": "BUY", "qty": "1", "type": "LIMIT"}),
    ("stop without price", {"symbol": "AAPL", "side": "BUY", "qty": "1", "type": "STOP"}),
    ("price on a market order", {"symbol": "AAPL", "side": "BUY", "qty": "1", "limitPrice": "5"}),
    (
        "notional limit order",
        {"symbol": "AAPL", "side": "BUY", "notional": "50", "type": "LIMIT", "limitPrice": "5"},
    ),
    ("beyond buying power", {"symbol": "SPY", "side": "BUY", "qty": "100000"}),
    ("selling what is not held", {"symbol": "TSLA", "side": "SELL", "qty": "1"}),
    ("selling more than held", {"symbol": "AAPL", "side": "SELL", "qty": "11"}),
    ("malformed symbol", {"symbol": "aapl; drop", "side": "BUY", "qty": "1"}),
]


@pytest.fixture
def alice_with_account(make_trader) -> tuple[Trader, dict]:
    alice: Trader = make_trader("alice@example.com")
    keys = alice.mint(
        "paper", cash="10000", positions=[{"symbol": "AAPL", "qty": "10", "avg_entry_price": "150"}]
    )
    alice.add_account("Main", keys=keys)
    return alice, keys


def test_every_rule_refuses_before_the_broker(alice_with_account, sandbox) -> None:
    alice, keys = alice_with_account
    for name, order in REFUSED:
        result = alice.call(PLACE_ORDER, {"input": order})
        assert code_of(result) == "BAD_USER_INPUT", (name, result)
    assert sandbox.stats()[keys["account_number"]]["orders_received"] == 0


def test_a_blocked_account_is_refused(alice_with_account, sandbox) -> None:
    alice, keys = alice_with_account
    sandbox.revoke(keys["account_number"])
    result = alice.call(PLACE_ORDER, {"input": {"symbol": "AAPL", "side": "BUY", "qty": "1"}})
    assert code_of(result) in ("BAD_USER_INPUT", "BROKER_REJECTED")
    assert sandbox.stats()[keys["account_number"]]["orders_received"] == 0


def test_a_valid_order_goes_through(alice_with_account, sandbox) -> None:
    alice, keys = alice_with_account
    sold = alice.data(PLACE_ORDER, {"input": {"symbol": "AAPL", "side": "SELL", "qty": "10"}})
    assert sold["placeOrder"]["side"] == "SELL"
    assert sandbox.stats()[keys["account_number"]]["orders_received"] == 1
