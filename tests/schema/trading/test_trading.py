"""The trading domain in-process: positions, orders and the four order mutations.

TRADE-02 (checked before sending; live orders wait for confirmOrder), TRADE-03
and TRADE-04 (the selected account's positions and orders only), TRADE-05 (a
proposal is sent at most once), ISO-02 (someone else's ids are NOT_FOUND).
"""

from __future__ import annotations

from typing import Any

from tests.fixtures.inprocess import AddedAccount, InProcessApp, SignedInUser, codes

POSITIONS = "query($a: UUID) { positions(accountId: $a) { symbol qty side avgEntryPrice } }"
ORDERS = """query($a: UUID, $limit: Int! = 50) {
  orders(accountId: $a, status: ALL, limit: $limit) { id symbol side status qty } }"""
PLACE = """mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id clientOrderId symbol side type qty status } }"""
CANCEL = "mutation($a: UUID, $o: String!) { cancelOrder(accountId: $a, orderId: $o) }"
CONFIRM = "mutation($p: UUID!) { confirmOrder(proposalId: $p) { id clientOrderId status } }"
DISMISS = "mutation($p: UUID!) { dismissProposal(proposalId: $p) }"


def _buy(account: AddedAccount, qty: str = "1", **extra: Any) -> dict[str, Any]:
    return {
        "input": {"accountId": account.id, "symbol": "AAPL", "side": "BUY", "qty": qty, **extra}
    }


async def _trader(
    app: InProcessApp, environment: str = "PAPER"
) -> tuple[SignedInUser, AddedAccount]:
    user = await app.sign_up()
    return user, await app.add_paper_account(user.token, environment=environment)


def _orders_received(app: InProcessApp, account: AddedAccount) -> int:
    received: int = app.sandbox.stats()[account.keys["account_number"]]["orders_received"]
    return received


async def test_trade03_positions_are_the_selected_accounts_only(app: InProcessApp) -> None:
    alice = await app.sign_up()
    held = [{"symbol": "TSLA", "qty": "3", "avg_entry_price": "200"}]
    main = await app.add_paper_account(alice.token, "Main")
    side = await app.add_paper_account(alice.token, "Side", positions=held)
    [tsla] = (await app.data(POSITIONS, {"a": side.id}, token=alice.token))["positions"]
    assert tsla == {"symbol": "TSLA", "qty": "3", "side": "long", "avgEntryPrice": "200"}
    assert await app.data(POSITIONS, {"a": main.id}, token=alice.token) == {"positions": []}
    assert await app.data(POSITIONS, token=alice.token) == {"positions": []}, "active: Main"

    bob = await app.sign_up()
    assert codes(await app.gql(POSITIONS, {"a": side.id}, token=bob.token)) == ["NOT_FOUND"]
    assert codes(await app.gql(POSITIONS, {"a": side.id})) == ["UNAUTHENTICATED"]


async def test_trade02_place_order_sends_a_paper_order_after_checking_it(
    app: InProcessApp,
) -> None:
    alice, account = await _trader(app)
    order = (await app.data(PLACE, _buy(account), token=alice.token))["placeOrder"]
    assert (order["symbol"], order["side"], order["type"], order["qty"]) == (
        "AAPL",
        "BUY",
        "MARKET",
        "1",
    )
    assert _orders_received(app, account) == 1

    negative = await app.gql(PLACE, _buy(account, "-1"), token=alice.token)
    assert codes(negative) == ["BAD_USER_INPUT"]
    assert negative["errors"][0]["extensions"]["field"] == "qty"
    bob = await app.sign_up()
    assert codes(await app.gql(PLACE, _buy(account), token=bob.token)) == ["NOT_FOUND"]
    assert codes(await app.gql(PLACE, _buy(account))) == ["UNAUTHENTICATED"]
    assert _orders_received(app, account) == 1


async def test_trade04_orders_lists_the_accounts_orders_newest_first(app: InProcessApp) -> None:
    alice, account = await _trader(app)
    first = (await app.data(PLACE, _buy(account), token=alice.token))["placeOrder"]
    second = (await app.data(PLACE, _buy(account, "2"), token=alice.token))["placeOrder"]
    listed = (await app.data(ORDERS, {"a": account.id}, token=alice.token))["orders"]
    assert [o["id"] for o in listed] == [second["id"], first["id"]]

    zero = await app.gql(ORDERS, {"a": account.id, "limit": 0}, token=alice.token)
    assert codes(zero) == ["BAD_USER_INPUT"]
    bob = await app.sign_up()
    assert codes(await app.gql(ORDERS, {"a": account.id}, token=bob.token)) == ["NOT_FOUND"]


async def test_cancel_order_cancels_an_open_order_of_my_account(app: InProcessApp) -> None:
    alice, account = await _trader(app)
    app.sandbox.set_market_open(False)  # a limit order stays open while the market is closed
    limit = _buy(account, type="LIMIT", limitPrice="100")
    order = (await app.data(PLACE, limit, token=alice.token))["placeOrder"]
    cancel = {"a": account.id, "o": order["id"]}
    assert await app.data(CANCEL, cancel, token=alice.token) == {"cancelOrder": True}
    [after] = (await app.data(ORDERS, {"a": account.id}, token=alice.token))["orders"]
    assert after["status"] in {"canceled", "pending_cancel"}

    assert codes(await app.gql(CANCEL, {**cancel, "o": "nope"}, token=alice.token)) == [
        "BAD_USER_INPUT"
    ]
    bob = await app.sign_up()
    assert codes(await app.gql(CANCEL, cancel, token=bob.token)) == ["NOT_FOUND"]


async def test_trade05_confirm_order_sends_a_live_proposal_exactly_once(
    app: InProcessApp,
) -> None:
    alice, live = await _trader(app, "LIVE")
    proposed = await app.gql(PLACE, _buy(live), token=alice.token)
    assert codes(proposed) == ["CONFIRMATION_REQUIRED"]
    proposal = proposed["errors"][0]["extensions"]["proposal"]
    assert _orders_received(app, live) == 0

    bob = await app.sign_up()
    assert codes(await app.gql(CONFIRM, {"p": proposal["id"]}, token=bob.token)) == ["NOT_FOUND"]
    order = (await app.data(CONFIRM, {"p": proposal["id"]}, token=alice.token))["confirmOrder"]
    assert order["clientOrderId"] == proposal["id"]
    again = await app.gql(CONFIRM, {"p": proposal["id"]}, token=alice.token)
    assert codes(again) == ["BAD_USER_INPUT"]
    assert _orders_received(app, live) == 1


async def test_dismiss_proposal_drops_it_and_nothing_is_sent(app: InProcessApp) -> None:
    alice, live = await _trader(app, "LIVE")
    proposed = await app.gql(PLACE, _buy(live), token=alice.token)
    proposal_id = proposed["errors"][0]["extensions"]["proposal"]["id"]
    bob = await app.sign_up()
    assert codes(await app.gql(DISMISS, {"p": proposal_id}, token=bob.token)) == ["NOT_FOUND"]
    assert await app.data(DISMISS, {"p": proposal_id}, token=alice.token) == {
        "dismissProposal": True
    }
    assert codes(await app.gql(CONFIRM, {"p": proposal_id}, token=alice.token)) == [
        "BAD_USER_INPUT"
    ]
    assert _orders_received(app, live) == 0
