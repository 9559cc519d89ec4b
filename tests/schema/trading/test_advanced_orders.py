"""Protective and advanced orders through GraphQL, in-process against the sandbox (ORD-01..05).

Brackets with their legs, OCO pairs, trailing stops, replacing an open order
(paper at once, live after confirmation), partial closes, crypto, and every
broker rule refused before anything reaches the broker (RISK-01: replace is
judged by the limits like every order path).
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from tests.fixtures.inprocess import AddedAccount, InProcessApp, SignedInUser, codes

ORDER_FIELDS = """id clientOrderId symbol side type status qty limitPrice stopPrice orderClass
  trailPercent hwm replaces replacedBy timeInForce filledAvgPrice
  legs { id type side status limitPrice stopPrice }"""
PLACE = f"mutation($input: PlaceOrderInput!) {{ placeOrder(input: $input) {{ {ORDER_FIELDS} }} }}"
ORDERS = (
    f"""query($a: UUID) {{ orders(accountId: $a, status: ALL, limit: 50) {{ {ORDER_FIELDS} }} }}"""
)
REPLACE = f"""mutation($a: UUID, $o: String!, $input: ReplaceOrderInput!) {{
  replaceOrder(accountId: $a, orderId: $o, input: $input) {{ {ORDER_FIELDS} }} }}"""
CLOSE = """mutation($a: UUID, $s: String!, $qty: Decimal, $pct: Decimal) {
  closePosition(accountId: $a, symbol: $s, qty: $qty, percentage: $pct) { id side qty status } }"""
CONFIRM = f"mutation($p: UUID!) {{ confirmOrder(proposalId: $p) {{ {ORDER_FIELDS} }} }}"
POSITIONS = "query($a: UUID) { positions(accountId: $a) { symbol qty } }"


async def _trader(
    app: InProcessApp, environment: str = "PAPER", **mint: Any
) -> tuple[SignedInUser, AddedAccount]:
    user = await app.sign_up()
    return user, await app.add_paper_account(user.token, environment=environment, **mint)


def _order(account: AddedAccount, symbol: str, side: str = "BUY", **fields: Any) -> dict:
    return {"input": {"accountId": account.id, "symbol": symbol, "side": side, **fields}}


def _received(app: InProcessApp, account: AddedAccount) -> int:
    count: int = app.sandbox.stats()[account.keys["account_number"]]["orders_received"]
    return count


async def _price(app: InProcessApp, symbol: str, price: str) -> None:
    await asyncio.to_thread(app.sandbox.set_price, symbol, price)


async def _orders(app: InProcessApp, user: SignedInUser, account: AddedAccount) -> list[dict]:
    found: list[dict] = (await app.data(ORDERS, {"a": account.id}, token=user.token))["orders"]
    return found


async def test_ord01_bracket_order_from_placement_to_a_leg_fill_cancelling_its_sibling(
    app: InProcessApp,
) -> None:
    """ORD-01: a market bracket fills, its two exits are live legs listed under it in
    `orders`; the take-profit filling cancels the stop-loss at the broker."""
    alice, account = await _trader(app)
    await _price(app, "V", "280")
    bracket = _order(
        account, "V", qty="5", orderClass="BRACKET", timeInForce="GTC",
        takeProfitLimitPrice="300", stopLossStopPrice="265",
    )  # fmt: skip
    placed = (await app.data(PLACE, bracket, token=alice.token))["placeOrder"]
    assert placed["orderClass"] == "BRACKET" and len(placed["legs"]) == 2
    (listed,) = [o for o in await _orders(app, alice, account) if o["symbol"] == "V"]
    assert listed["status"] == "filled"
    assert [(leg["type"], leg["status"]) for leg in listed["legs"]] == [
        ("LIMIT", "new"),
        ("STOP", "new"),
    ]
    await _price(app, "V", "301")
    (after,) = [o for o in await _orders(app, alice, account) if o["symbol"] == "V"]
    assert [leg["status"] for leg in after["legs"]] == ["filled", "canceled"]


async def test_ord01_oco_and_oto_and_trailing_stop_through_the_ticket(app: InProcessApp) -> None:
    """ORD-01: an OCO pair on a held position, an OTO entry with one stop-loss, and a 5 %
    trailing stop that fires after the price walks up and comes back."""
    held = [{"symbol": "MA", "qty": "10", "avg_entry_price": "400"}]
    alice, account = await _trader(app, positions=held)
    await _price(app, "MA", "470")
    oco = _order(
        account, "MA", "SELL", qty="4", orderClass="OCO", timeInForce="GTC",
        takeProfitLimitPrice="520", stopLossStopPrice="440",
    )  # fmt: skip
    pair = (await app.data(PLACE, oco, token=alice.token))["placeOrder"]
    assert (pair["orderClass"], pair["limitPrice"], pair["legs"][0]["stopPrice"]) == (
        "OCO",
        "520",
        "440",
    )
    oto = _order(
        account, "MA", qty="1", orderClass="OTO", type="LIMIT", limitPrice="460",
        timeInForce="DAY", stopLossStopPrice="430",
    )  # fmt: skip
    entry = (await app.data(PLACE, oto, token=alice.token))["placeOrder"]
    assert entry["status"] == "new" and entry["legs"][0]["status"] == "held"

    trailing = _order(
        account, "MA", "SELL", qty="6", type="TRAILING_STOP", trailPercent="5", timeInForce="GTC"
    )
    stop = (await app.data(PLACE, trailing, token=alice.token))["placeOrder"]
    assert (stop["type"], stop["trailPercent"]) == ("TRAILING_STOP", "5")
    # The sandbox's own slow price walk may move a price by cents between two calls.
    assert abs(Decimal(stop["hwm"]) - 470) < 1
    for price in ("480", "500", "490"):
        await _price(app, "MA", price)
    walked = next(o for o in await _orders(app, alice, account) if o["id"] == stop["id"])
    hwm = Decimal(walked["hwm"])
    assert abs(hwm - 500) < 1 and walked["status"] == "new"
    trail = (hwm * 5 / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(walked["stopPrice"]) == hwm - trail
    await _price(app, "MA", "470")
    fired = next(o for o in await _orders(app, alice, account) if o["id"] == stop["id"])
    assert fired["status"] == "filled"
    await _price(app, "MA", "470")


BROKER_RULES = [
    (
        "bracket without a stop-loss",
        {"qty": "1", "orderClass": "BRACKET", "takeProfitLimitPrice": "300"},
        "stopLossStopPrice",
    ),
    (
        "take-profit below a buy's entry",
        {"qty": "1", "orderClass": "BRACKET", "type": "LIMIT", "limitPrice": "280",
         "takeProfitLimitPrice": "270", "stopLossStopPrice": "260"},
        "takeProfitLimitPrice",
    ),
    (
        "stop-loss above a buy's market entry",
        {"qty": "1", "orderClass": "BRACKET", "takeProfitLimitPrice": "320",
         "stopLossStopPrice": "290"},
        "stopLossStopPrice",
    ),
    (
        "trailing stop inside a bracket",
        {"qty": "1", "orderClass": "BRACKET", "type": "TRAILING_STOP", "trailPercent": "5",
         "takeProfitLimitPrice": "320", "stopLossStopPrice": "260"},
        "type",
    ),
    ("trailing stop with both trails",
     {"qty": "1", "type": "TRAILING_STOP", "trailPercent": "5", "trailPrice": "3"},
     "trailPercent"),
    ("trailing stop with no trail", {"qty": "1", "type": "TRAILING_STOP"}, "trailPrice"),
    ("OTO with two exits",
     {"qty": "1", "orderClass": "OTO", "takeProfitLimitPrice": "320", "stopLossStopPrice": "260"},
     "orderClass"),
    ("OCO without a position",
     {"qty": "1", "orderClass": "OCO", "takeProfitLimitPrice": "320", "stopLossStopPrice": "260",
      "side": "SELL"},
     "qty"),
    ("fractional stop order", {"qty": "0.5", "type": "STOP", "stopPrice": "300"}, "qty"),
    ("fractional GTC order", {"qty": "0.5", "timeInForce": "GTC"}, "qty"),
    ("crypto day order", {"qty": "0.01", "symbol": "BTC/USD", "timeInForce": "DAY"},
     "timeInForce"),
    ("crypto stop order",
     {"qty": "0.01", "symbol": "BTC/USD", "type": "STOP", "stopPrice": "70000",
      "timeInForce": "GTC"},
     "type"),
    ("crypto short", {"qty": "1", "symbol": "ETH/USD", "side": "SELL", "timeInForce": "GTC"},
     "qty"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fields", "field"), BROKER_RULES, ids=[r[0] for r in BROKER_RULES]
)
async def test_ord01_broker_rules_are_refused_before_anything_is_sent(
    app: InProcessApp, name: str, fields: dict[str, Any], field: str
) -> None:
    """ORD-01, ORD-04, ORD-05: BAD_USER_INPUT naming the field; the broker receives nothing."""
    alice, account = await _trader(app)
    await _price(app, "DIS", "280")
    order = {"symbol": "DIS", "side": "BUY", **fields}
    answer = await app.gql(PLACE, {"input": {"accountId": account.id, **order}}, token=alice.token)
    assert codes(answer) == ["BAD_USER_INPUT"], answer
    assert answer["errors"][0]["extensions"]["field"] == field, answer["errors"][0]["message"]
    assert _received(app, account) == 0
    await _price(app, "DIS", "95")


async def test_ord01_a_price_far_from_the_market_asks_to_confirm_it_on_paper_too(
    app: InProcessApp,
) -> None:
    """ORD-01: a buy limit 30 % above the market and a buy stop below it answer
    CONFIRMATION_REQUIRED with the reason; nothing is sent until confirmOrder."""
    alice, account = await _trader(app)
    await _price(app, "WMT", "80")
    far = await app.gql(
        PLACE, _order(account, "WMT", qty="1", type="LIMIT", limitPrice="104"), token=alice.token
    )
    assert codes(far) == ["CONFIRMATION_REQUIRED"]
    proposal = far["errors"][0]["extensions"]["proposal"]
    assert "30% away from the market" in proposal["reason"]
    wrong_side = await app.gql(
        PLACE, _order(account, "WMT", qty="1", type="STOP", stopPrice="70"), token=alice.token
    )
    assert "would trigger at once" in wrong_side["errors"][0]["extensions"]["proposal"]["reason"]
    assert _received(app, account) == 0
    confirmed = await app.data(CONFIRM, {"p": proposal["id"]}, token=alice.token)
    assert confirmed["confirmOrder"]["limitPrice"] == "104"
    assert _received(app, account) == 1


async def test_ord02_replace_on_paper_and_the_orders_it_may_not_touch(app: InProcessApp) -> None:
    """ORD-02: replacing a resting limit gives a new order that `replaces` the old one (now
    `replaced`, with `replacedBy`); a filled order is BAD_USER_INPUT, someone else's order
    NOT_FOUND, fractional shares BAD_USER_INPUT; nothing is sent for those."""
    alice, account = await _trader(app)
    await _price(app, "XOM", "115")
    resting = _order(account, "XOM", qty="2", type="LIMIT", limitPrice="110", timeInForce="GTC")
    old = (await app.data(PLACE, resting, token=alice.token))["placeOrder"]
    change = {"a": account.id, "o": old["id"], "input": {"limitPrice": "111", "qty": "3"}}
    new = (await app.data(REPLACE, change, token=alice.token))["replaceOrder"]
    assert (new["replaces"], new["limitPrice"], new["qty"]) == (old["id"], "111", "3")
    listed = {o["id"]: o for o in await _orders(app, alice, account)}
    assert listed[old["id"]]["status"] == "replaced"
    assert listed[old["id"]]["replacedBy"] == new["id"]

    sent = _received(app, account)
    filled = await app.data(PLACE, _order(account, "XOM", qty="1"), token=alice.token)
    done = {"a": account.id, "o": filled["placeOrder"]["id"], "input": {"qty": "2"}}
    assert codes(await app.gql(REPLACE, done, token=alice.token)) == ["BAD_USER_INPUT"]
    half = {"a": account.id, "o": new["id"], "input": {"qty": "2.5"}}
    answer = await app.gql(REPLACE, half, token=alice.token)
    assert codes(answer) == ["BAD_USER_INPUT"]
    assert answer["errors"][0]["extensions"]["field"] == "qty"
    bob, bobs = await _trader(app)
    foreign = {"a": bobs.id, "o": new["id"], "input": {"limitPrice": "112"}}
    assert codes(await app.gql(REPLACE, foreign, token=bob.token)) == ["NOT_FOUND"]
    assert _received(app, account) == sent + 1  # only the market order


async def test_ord02_ord03_live_replace_and_close_wait_for_confirmation(
    app: InProcessApp,
) -> None:
    """ORD-02, ORD-03: on a live account replaceOrder and closePosition answer
    CONFIRMATION_REQUIRED with a proposal; the broker gets them only at confirmOrder."""
    held = [{"symbol": "KO", "qty": "10", "avg_entry_price": "60"}]
    alice, account = await _trader(app, environment="LIVE", positions=held)
    await _price(app, "KO", "62")
    resting = _order(account, "KO", "SELL", qty="2", type="LIMIT", limitPrice="65")
    waiting = await app.gql(PLACE, resting, token=alice.token)
    first = waiting["errors"][0]["extensions"]["proposal"]["id"]
    old = (await app.data(CONFIRM, {"p": first}, token=alice.token))["confirmOrder"]
    sent = _received(app, account)

    change = {"a": account.id, "o": old["id"], "input": {"limitPrice": "66"}}
    asked = await app.gql(REPLACE, change, token=alice.token)
    assert codes(asked) == ["CONFIRMATION_REQUIRED"]
    proposal = asked["errors"][0]["extensions"]["proposal"]
    assert (proposal["kind"], proposal["targets"]) == ("REPLACE", [old["id"]])
    assert _received(app, account) == sent
    new = (await app.data(CONFIRM, {"p": proposal["id"]}, token=alice.token))["confirmOrder"]
    assert (new["replaces"], new["limitPrice"]) == (old["id"], "66")

    close = await app.gql(CLOSE, {"a": account.id, "s": "KO", "pct": "50"}, token=alice.token)
    assert codes(close) == ["CONFIRMATION_REQUIRED"]
    closing = close["errors"][0]["extensions"]["proposal"]
    assert (closing["side"], closing["qty"]) == ("SELL", "5")
    assert _received(app, account) == sent + 1
    await app.data(CONFIRM, {"p": closing["id"]}, token=alice.token)
    (ko,) = (await app.data(POSITIONS, {"a": account.id}, token=alice.token))["positions"]
    assert ko["qty"] == "5"


async def test_ord03_ord04_partial_close_on_paper_and_crypto_around_the_clock(
    app: InProcessApp,
) -> None:
    """ORD-03: close 50 % of a paper position at once; ORD-04: 0.01 BTC/USD (GTC) fills
    while the stock market is closed, and its position closes by percentage too."""
    held = [{"symbol": "PFE", "qty": "8", "avg_entry_price": "25"}]
    alice, account = await _trader(app, positions=held)
    half = await app.data(CLOSE, {"a": account.id, "s": "PFE", "pct": "50"}, token=alice.token)
    assert (half["closePosition"]["qty"], half["closePosition"]["side"]) == ("4", "SELL")
    await asyncio.to_thread(app.sandbox.set_market_open, False)
    try:
        btc = _order(account, "BTC/USD", qty="0.01", timeInForce="GTC")
        bought = (await app.data(PLACE, btc, token=alice.token))["placeOrder"]
        assert bought["status"] == "filled" and bought["filledAvgPrice"]
        closed = await app.data(
            CLOSE, {"a": account.id, "s": "BTC/USD", "pct": "100"}, token=alice.token
        )
        assert closed["closePosition"]["status"] == "filled"
    finally:
        await asyncio.to_thread(app.sandbox.set_market_open, True)
    positions = (await app.data(POSITIONS, {"a": account.id}, token=alice.token))["positions"]
    assert positions == [{"symbol": "PFE", "qty": "4"}]
