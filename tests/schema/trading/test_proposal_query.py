"""`proposal(id)`: the proposal a notification opens, read without confirming it.

PUSH-01 (a live proposal waiting for confirmation opens as itself; opening never
confirms), ISO-02 and ISO-03 (another person's proposal id answers NOT_FOUND, as an
unknown one does: existence is never revealed).
"""

from __future__ import annotations

from uuid import uuid4

from tests.fixtures.inprocess import InProcessApp, codes

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""
PROPOSAL = """query($id: UUID!) {
  proposal(id: $id) { id accountId kind symbol side qty environment status orderId } }"""
CONFIRM = "mutation($p: UUID!) { confirmOrder(proposalId: $p) { id } }"


async def test_push01_iso02_proposal_reads_my_live_proposal_and_never_confirms_it(
    app: InProcessApp,
) -> None:
    """PUSH-01, ISO-02, ISO-03: read as it stands, twice, and still PENDING; others: NOT_FOUND."""
    alice = await app.sign_up()
    live = await app.add_paper_account(alice.token, "Real", environment="LIVE")
    order = {"accountId": live.id, "symbol": "AAPL", "side": "BUY", "qty": "2"}
    proposed = await app.gql(PLACE, {"input": order}, token=alice.token)
    assert codes(proposed) == ["CONFIRMATION_REQUIRED"]
    proposal_id = proposed["errors"][0]["extensions"]["proposal"]["id"]

    for _ in range(2):
        read = await app.data(PROPOSAL, {"id": proposal_id}, token=alice.token)
        assert read["proposal"] == {
            "id": proposal_id,
            "accountId": live.id,
            "kind": "ORDER",
            "symbol": "AAPL",
            "side": "BUY",
            "qty": "2",
            "environment": "LIVE",
            "status": "PENDING",
            "orderId": None,
        }
    assert app.sandbox.stats()[live.keys["account_number"]]["orders_received"] == 0

    bob = await app.sign_up()
    for token, variables in (
        (bob.token, {"id": proposal_id}),
        (alice.token, {"id": str(uuid4())}),
    ):
        answer = await app.gql(PROPOSAL, variables, token=token)
        assert codes(answer) == ["NOT_FOUND"], answer
        assert answer["data"] is None
    assert codes(await app.gql(PROPOSAL, {"id": proposal_id})) == ["UNAUTHENTICATED"]

    confirmed = await app.data(CONFIRM, {"p": proposal_id}, token=alice.token)
    read = await app.data(PROPOSAL, {"id": proposal_id}, token=alice.token)
    assert read["proposal"]["status"] == "CONFIRMED"
    assert read["proposal"]["orderId"] == confirmed["confirmOrder"]["id"]


BRACKET_PROPOSAL = """query($id: UUID!) { proposal(id: $id) {
  orderClass type limitPrice takeProfitLimitPrice stopLossStopPrice stopLossLimitPrice
  trailPrice trailPercent } }"""


async def test_ord01_a_live_bracket_proposal_shows_the_exits_it_would_place(
    app: InProcessApp,
) -> None:
    """ORD-01, TRADE-02: what a person confirms includes the exits; a bracket proposed on a
    live account reads back with its order class, take-profit and stop-loss prices."""
    app.sandbox.set_price("AAPL", "190.00")
    alice = await app.sign_up()
    live = await app.add_paper_account(alice.token, "Real", environment="LIVE")
    order = {
        "accountId": live.id,
        "symbol": "AAPL",
        "side": "BUY",
        "qty": "2",
        "type": "LIMIT",
        "limitPrice": "190",
        "orderClass": "BRACKET",
        "takeProfitLimitPrice": "210",
        "stopLossStopPrice": "180",
        "stopLossLimitPrice": "179.5",
    }
    proposed = await app.gql(PLACE, {"input": order}, token=alice.token)
    assert codes(proposed) == ["CONFIRMATION_REQUIRED"], proposed
    proposal_id = proposed["errors"][0]["extensions"]["proposal"]["id"]
    read = await app.data(BRACKET_PROPOSAL, {"id": proposal_id}, token=alice.token)
    assert read["proposal"] == {
        "orderClass": "BRACKET",
        "type": "LIMIT",
        "limitPrice": "190",
        "takeProfitLimitPrice": "210",
        "stopLossStopPrice": "180",
        "stopLossLimitPrice": "179.5",
        "trailPrice": None,
        "trailPercent": None,
    }
