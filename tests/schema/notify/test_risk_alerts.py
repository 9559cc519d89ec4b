"""A halt and a refused order reach the owner's device (PUSH-01, RISK-04, RISK-05).

The alerts are published in the transaction that writes the guard audit row, so the
stand-in push service receives them once that row is committed, with the app closed
(nobody subscribed to the account).
"""

from __future__ import annotations

from tests.fixtures.inprocess import codes
from tests.fixtures.push import BrowserKeys
from tests.schema.notify.conftest import PushApp

ADD = """mutation($input: PushSubscriptionInput!) {
  addPushSubscription(input: $input) { id } }"""
HALT = "mutation($a: UUID!) { haltAccount(accountId: $a) { halted } }"
SET_LIMITS = """mutation($a: UUID!, $input: AccountLimitsInput!) {
  setAccountLimits(accountId: $a, input: $input) { id } }"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""


async def test_push01_risk04_a_halt_and_a_refusal_are_pushed(push_app: PushApp) -> None:
    """PUSH-01, RISK-04, RISK-05: haltAccount pushes "Trading halted" naming the account;
    an order the limits refuse pushes which guard refused it."""
    app, push = push_app.app, push_app.push
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token, nickname="Main")
    keys = BrowserKeys()
    await app.data(ADD, {"input": keys.subscription(push.endpoint("alice"))}, token=alice.token)

    await app.data(
        SET_LIMITS, {"a": account.id, "input": {"deniedSymbols": ["TSLA"]}}, token=alice.token
    )
    order = {"accountId": account.id, "symbol": "TSLA", "side": "BUY", "qty": "1"}
    assert codes(await app.gql(PLACE, {"input": order}, token=alice.token)) == ["LIMIT_EXCEEDED"]
    (refused,) = [keys.decrypt(r.body) for r in await push.wait_for("alice")]
    assert refused["kind"] == "GUARD_REFUSALS"
    assert refused["title"] == "Order refused by your limits (TSLA)"
    assert refused["body"] == "Main (PAPER): symbol_denied"

    assert (await app.data(HALT, {"a": account.id}, token=alice.token))["haltAccount"]["halted"]
    halted = keys.decrypt((await push.wait_for("alice", 2))[1].body)
    assert halted["kind"] == "HALTS"
    assert halted["title"] == "Trading halted"
    assert halted["body"] == "Main (PAPER) is halted: no new orders until you resume it"
    assert halted["url"] == f"/#/accounts?account={account.id}"
