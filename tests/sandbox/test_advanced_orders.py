"""ORD-01..04 at the sandbox broker: legs, OCO, trailing stops, replace, crypto, partial close.

Every answer is also checked against Alpaca's OpenAPI document (OPS-03), and
read back with alpaca-py's own models, as the product reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from alpaca.trading.models import Order as AlpacaOrder

from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.clients import auth_headers
from tests.sandbox.test_openapi import _response_schema, _validate


class Account:
    def __init__(self, sandbox: SandboxHandle, positions: list[dict[str, str]]) -> None:
        self.keys = sandbox.mint_account(positions=positions)
        self.http = httpx.Client(base_url=sandbox.paper_url, headers=auth_headers(self.keys))

    def post(self, **body: Any) -> dict[str, Any]:
        response = self.http.post("/v2/orders", json=body)
        assert response.status_code == 200, response.text
        _validate(_response_schema("/v2/orders", "POST", 200) or {}, response.json())
        order: dict[str, Any] = response.json()
        AlpacaOrder(**order)
        return order

    def get(self, order_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v2/orders/{order_id}")
        assert response.status_code == 200, response.text
        _validate(_response_schema("/v2/orders/{order_id}", "GET", 200) or {}, response.json())
        order: dict[str, Any] = response.json()
        return order


@pytest.fixture
def account(sandbox: SandboxHandle) -> Iterator[Account]:
    made = Account(sandbox, [{"symbol": "KO", "qty": "10", "avg_entry_price": "60"}])
    yield made
    made.http.close()


@pytest.fixture
def prices(sandbox: SandboxHandle) -> Iterator[SandboxHandle]:
    """The market open and every symbol this module moves put back afterwards."""
    sandbox.set_market_open(True)
    yield sandbox
    for symbol, price in {"PEP": "165", "KO": "62", "JPM": "210", "BTC/USD": "60000"}.items():
        sandbox.set_price(symbol, price)


def test_ord01_bracket_legs_are_held_then_one_exit_cancels_the_other(
    account: Account, prices: SandboxHandle
) -> None:
    """ORD-01: a bracket's exits are held legs until the entry fills, then the take-profit
    filling cancels the stop-loss (OCO)."""
    prices.set_price("PEP", "165")
    parent = account.post(
        symbol="PEP", qty="3", side="buy", type="limit", limit_price="160",
        time_in_force="gtc", order_class="bracket",
        take_profit={"limit_price": "175"}, stop_loss={"stop_price": "150"},
    )  # fmt: skip
    assert parent["order_class"] == "bracket" and parent["status"] == "new"
    legs = parent["legs"]
    assert [(leg["type"], leg["status"], leg["side"]) for leg in legs] == [
        ("limit", "held", "sell"),
        ("stop", "held", "sell"),
    ]
    prices.set_price("PEP", "159")
    take_profit, stop_loss = (account.get(leg["id"]) for leg in legs)
    assert account.get(parent["id"])["status"] == "filled"
    assert take_profit["status"] == stop_loss["status"] == "new"
    prices.set_price("PEP", "176")
    assert account.get(take_profit["id"])["status"] == "filled"
    assert account.get(stop_loss["id"])["status"] == "canceled"
    nested = account.http.get("/v2/orders", params={"status": "all", "nested": "true"}).json()
    assert [o["id"] for o in nested if o["symbol"] == "PEP"] == [parent["id"]]


def test_ord01_oco_pair_protects_a_held_position(account: Account, prices: SandboxHandle) -> None:
    """ORD-01: an OCO exit pair on a position; the stop triggering cancels the take-profit."""
    prices.set_price("KO", "62")
    oco = account.post(
        symbol="KO", qty="10", side="sell", type="limit", time_in_force="gtc",
        order_class="oco", take_profit={"limit_price": "70"}, stop_loss={"stop_price": "55"},
    )  # fmt: skip
    assert oco["limit_price"] == "70" and oco["legs"][0]["stop_price"] == "55"
    assert oco["legs"][0]["status"] == "new"
    prices.set_price("KO", "54")
    assert account.get(oco["legs"][0]["id"])["status"] == "filled"
    assert account.get(oco["id"])["status"] == "canceled"


def test_ord01_trailing_stop_follows_the_high_water_mark(
    account: Account, prices: SandboxHandle
) -> None:
    """ORD-01: a sell trailing stop of 5 % moves up with the price and fires on the way down."""
    prices.set_price("KO", "60")
    order = account.post(
        symbol="KO", qty="10", side="sell", type="trailing_stop", trail_percent="5",
        time_in_force="gtc",
    )  # fmt: skip
    # The sandbox's slow price walk may move a price by a cent or so between two calls.
    assert abs(Decimal(order["hwm"]) - 60) < Decimal("0.5")
    for price in ("62", "64", "63"):
        prices.set_price("KO", price)
    walked = account.get(order["id"])
    hwm = Decimal(walked["hwm"])
    assert walked["status"] == "new" and abs(hwm - 64) < Decimal("0.5")
    trail = (hwm * 5 / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(walked["stop_price"]) == hwm - trail
    prices.set_price("KO", "60")
    assert account.get(order["id"])["status"] == "filled"


def test_ord02_replace_issues_a_new_order_and_marks_the_old_replaced(
    account: Account, prices: SandboxHandle
) -> None:
    """ORD-02: PATCH gives a new id that `replaces` the old one, which ends `replaced`."""
    prices.set_price("JPM", "210")
    old = account.post(
        symbol="JPM", qty="2", side="buy", type="limit", limit_price="180", time_in_force="day"
    )
    response = account.http.patch(
        f"/v2/orders/{old['id']}", json={"limit_price": "185", "qty": "3"}
    )
    assert response.status_code == 200, response.text
    _validate(_response_schema("/v2/orders/{order_id}", "PATCH", 200) or {}, response.json())
    new = response.json()
    assert new["id"] != old["id"] and new["replaces"] == old["id"]
    assert (new["limit_price"], new["qty"], new["status"]) == ("185", "3", "new")
    replaced = account.get(old["id"])
    assert replaced["status"] == "replaced" and replaced["replaced_by"] == new["id"]
    fractional = account.http.patch(f"/v2/orders/{new['id']}", json={"qty": "1.5"})
    assert fractional.status_code == 422
    again = account.http.patch(f"/v2/orders/{old['id']}", json={"limit_price": "186"})
    assert again.status_code == 422


def test_ord04_crypto_trades_while_the_stock_market_is_closed(
    account: Account, prices: SandboxHandle
) -> None:
    """ORD-04: BTC/USD is a fractionable crypto asset, gtc only, and fills around the clock."""
    asset = account.http.get("/v2/assets/BTCUSD")
    assert asset.status_code == 200
    assert (asset.json()["class"], asset.json()["fractionable"]) == ("crypto", True)
    prices.set_market_open(False)
    try:
        day = account.http.post(
            "/v2/orders",
            json={"symbol": "BTC/USD", "qty": "0.01", "side": "buy", "type": "market",
                  "time_in_force": "day"},
        )  # fmt: skip
        assert day.status_code == 422
        order = account.post(
            symbol="BTC/USD", qty="0.01", side="buy", type="market", time_in_force="gtc"
        )
        assert account.get(order["id"])["status"] == "filled"
    finally:
        prices.set_market_open(True)
    position = account.http.get("/v2/positions/BTCUSD").json()
    assert (position["symbol"], position["qty"]) == ("BTCUSD", "0.01")
    short = account.http.post(
        "/v2/orders",
        json={"symbol": "ETH/USD", "qty": "1", "side": "sell", "type": "market",
              "time_in_force": "gtc"},
    )  # fmt: skip
    assert short.status_code == 403


def test_ord03_partial_close_by_qty_and_percentage(account: Account, prices: SandboxHandle) -> None:
    """ORD-03: DELETE /v2/positions/{symbol} with qty or percentage closes that much."""
    by_qty = account.http.delete("/v2/positions/KO", params={"qty": "2"})
    assert by_qty.status_code == 200 and by_qty.json()["qty"] == "2"
    half = account.http.delete("/v2/positions/KO", params={"percentage": "50"})
    assert half.status_code == 200 and half.json()["qty"] == "4"
    assert account.http.get("/v2/positions/KO").json()["qty"] == "4"
