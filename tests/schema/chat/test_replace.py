"""The chat's "change my AAPL limit to 185" end to end, in-process against the sandbox (ORD-02).

The interpreter finds the one open order, the replace tool makes a proposal of the
order as it will be (kind REPLACE), and only `confirmOrder` replaces it at the broker,
on paper as on a live account (TRADE-02).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.fixtures.inprocess import InProcessApp

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""
CONFIRM = "mutation($p: UUID!) { confirmOrder(proposalId: $p) { id replaces limitPrice } }"
ORDERS = """query($a: UUID) { orders(accountId: $a, status: ALL, limit: 50) {
  id status limitPrice replacedBy } }"""
CHAT = """mutation($text: String!, $a: UUID) {
  sendChatMessage(text: $text, accountId: $a) {
    reply { text proposals { id kind status limitPrice environment } toolCalls { name } } } }"""


@pytest.mark.parametrize("environment", ["PAPER", "LIVE"])
async def test_ord02_trade02_chat_changes_a_limit_only_when_confirmed(
    app: InProcessApp, environment: str
) -> None:
    """ORD-02, TRADE-02: the chat proposes the new limit of the one open XOM order; the broker
    receives nothing until the proposal is confirmed, then the order is replaced once."""
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token, environment=environment)
    await asyncio.to_thread(app.sandbox.set_price, "XOM", "115")
    resting = {
        "accountId": account.id, "symbol": "XOM", "side": "BUY", "qty": "2",
        "type": "LIMIT", "limitPrice": "110", "timeInForce": "GTC",
    }  # fmt: skip
    placed = await app.gql(PLACE, {"input": resting}, token=alice.token)
    if placed.get("errors"):  # a live order waits for its confirmation too
        proposal_id = placed["errors"][0]["extensions"]["proposal"]["id"]
        old_id = (await app.data(CONFIRM, {"p": proposal_id}, token=alice.token))["confirmOrder"]
        old_id = old_id["id"]
    else:
        old_id = placed["data"]["placeOrder"]["id"]
    number = account.keys["account_number"]
    sent = app.sandbox.stats()[number]["orders_received"]

    said = {"text": "change my XOM limit to 111", "a": account.id}
    reply = (await app.data(CHAT, said, token=alice.token))["sendChatMessage"]["reply"]
    assert [c["name"] for c in reply["toolCalls"]] == ["orders", "replace_order"]
    (proposal,) = reply["proposals"]
    assert (proposal["kind"], proposal["status"], proposal["limitPrice"]) == (
        "REPLACE",
        "PENDING",
        "111",
    )
    assert proposal["environment"] == environment
    assert "confirm to send" in reply["text"]
    orders = {
        o["id"]: o for o in (await app.data(ORDERS, {"a": account.id}, token=alice.token))["orders"]
    }
    assert orders[old_id]["status"] != "replaced"
    assert app.sandbox.stats()[number]["orders_received"] == sent

    new = (await app.data(CONFIRM, {"p": proposal["id"]}, token=alice.token))["confirmOrder"]
    assert (new["replaces"], new["limitPrice"]) == (old_id, "111")
    orders = {
        o["id"]: o for o in (await app.data(ORDERS, {"a": account.id}, token=alice.token))["orders"]
    }
    assert (orders[old_id]["status"], orders[old_id]["replacedBy"]) == ("replaced", new["id"])
