"""The chat's "cancel all" and "sell everything" are proposals (TRADE-02, RISK-01, RISK-05).

Through GraphQL against the sandbox: the chat proposes, the broker keeps every open
order and position until `confirmOrder`, on paper and on live accounts; confirming
cancels the listed orders (written to the guard audit) or closes each position with
a close the guard judged; only a paper account with chat auto-execute on goes at once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest

from tests.fixtures.inprocess import AddedAccount, InProcessApp, SignedInUser, codes

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }"""
CONFIRM = "mutation($p: UUID!) { confirmOrder(proposalId: $p) { id status } }"
DISMISS = "mutation($p: UUID!) { dismissProposal(proposalId: $p) }"
ORDERS = """query($a: UUID) { orders(accountId: $a, status: OPEN, limit: 50) {
  id symbol side qty status } }"""
POSITIONS = "query($a: UUID) { positions(accountId: $a) { symbol qty } }"
CHAT = """mutation($text: String!, $a: UUID) {
  sendChatMessage(text: $text, accountId: $a) { reply { text
    proposals { id kind targets summary status symbol environment }
    toolCalls { name result } } } }"""
HISTORY = """query($a: UUID) { chatHistory(accountId: $a, limit: 10) {
  proposals { id kind status } } }"""
AUTO = "mutation($a: UUID!) { setChatAutoExecute(id: $a, enabled: true) { id } }"


async def _resting_orders(
    app: InProcessApp, user: SignedInUser, account: AddedAccount, count: int
) -> list[str]:
    """`count` limit buys far below the market, left open (the market is closed)."""
    ids = []
    for n in range(count):
        order = {"accountId": account.id, "symbol": "AAPL", "side": "BUY", "qty": str(n + 1)}
        order |= {"type": "LIMIT", "limitPrice": "100", "timeInForce": "GTC"}
        answer = await app.gql(PLACE, {"input": order}, token=user.token)
        if codes(answer) == ["CONFIRMATION_REQUIRED"]:  # a live account: confirm it
            proposal = answer["errors"][0]["extensions"]["proposal"]
            confirmed = await app.data(CONFIRM, {"p": proposal["id"]}, token=user.token)
            ids.append(confirmed["confirmOrder"]["id"])
        else:
            ids.append(answer["data"]["placeOrder"]["id"])
    return ids


async def _open(app: InProcessApp, user: SignedInUser, account: AddedAccount) -> set[str]:
    found = await app.data(ORDERS, {"a": account.id}, token=user.token)
    return {o["id"] for o in found["orders"]}


async def _say(
    app: InProcessApp, user: SignedInUser, account: AddedAccount, text: str
) -> dict[str, Any]:
    answer = await app.data(CHAT, {"text": text, "a": account.id}, token=user.token)
    reply: dict[str, Any] = answer["sendChatMessage"]["reply"]
    return reply


@pytest.mark.parametrize("environment", ["PAPER", "LIVE"])
async def test_trade02_chat_cancel_all_waits_for_confirm_then_cancels(
    app: InProcessApp, owner: asyncpg.Connection, environment: str
) -> None:
    """TRADE-02, RISK-05: "cancel all" on the chat is a CANCEL_ALL proposal naming the open
    orders; the broker keeps them all until confirmOrder, which cancels them, answers null,
    and writes ORDERS_CANCELED to the guard audit; a second confirm is refused."""
    app.sandbox.set_market_open(False)
    user = await app.sign_up()
    account = await app.add_paper_account(user.token, environment=environment)
    ids = await _resting_orders(app, user, account, 2)

    reply = await _say(app, user, account, "cancel all my open orders")
    (proposal,) = reply["proposals"]
    assert proposal["kind"] == "CANCEL_ALL" and proposal["status"] == "PENDING"
    assert sorted(proposal["targets"]) == sorted(ids) and proposal["symbol"] is None
    assert proposal["summary"] == f"Cancel all 2 open orders on Main ({environment})"
    assert proposal["environment"] == environment
    assert "confirm" in reply["text"]
    assert await _open(app, user, account) == set(ids)

    confirmed = await app.gql(CONFIRM, {"p": proposal["id"]}, token=user.token)
    assert confirmed == {"data": {"confirmOrder": None}}
    assert await _open(app, user, account) == set()
    history = await app.data(HISTORY, {"a": account.id}, token=user.token)
    shown = [p for m in history["chatHistory"] for p in m["proposals"]]
    assert shown == [{"id": proposal["id"], "kind": "CANCEL_ALL", "status": "CONFIRMED"}]
    again = await app.gql(CONFIRM, {"p": proposal["id"]}, token=user.token)
    assert codes(again) == ["BAD_USER_INPUT"]

    trail = await owner.fetch(
        "select source, detail from app.guard_audit where account_id = $1"
        " and event = 'ORDERS_CANCELED'",
        UUID(account.id),
    )
    assert [r["source"] for r in trail] == ["confirm"]
    assert all(order_id in trail[0]["detail"] for order_id in ids)


async def test_trade02_a_dismissed_cancel_all_cancels_nothing_and_later_orders_are_kept(
    app: InProcessApp,
) -> None:
    """TRADE-02: dismissing leaves every order; an order placed after the proposal is not
    one it lists, so confirming a new proposal's older sibling never cancels it."""
    app.sandbox.set_market_open(False)
    user = await app.sign_up()
    account = await app.add_paper_account(user.token)
    (first,) = await _resting_orders(app, user, account, 1)
    (dismissed,) = (await _say(app, user, account, "cancel all"))["proposals"]
    await app.data(DISMISS, {"p": dismissed["id"]}, token=user.token)
    assert await _open(app, user, account) == {first}

    (proposal,) = (await _say(app, user, account, "cancel everything"))["proposals"]
    assert proposal["summary"] == "Cancel the 1 open order on Main (PAPER)"
    (later,) = await _resting_orders(app, user, account, 1)
    await app.data(CONFIRM, {"p": proposal["id"]}, token=user.token)
    assert await _open(app, user, account) == {later}


async def test_trade02_paper_auto_execute_cancels_all_at_once_live_never(
    app: InProcessApp,
) -> None:
    """TRADE-02: with chat auto-execute on, a paper account's cancel-all is carried out in
    the turn (the tool result lists what was cancelled); nothing open: nothing proposed."""
    app.sandbox.set_market_open(False)
    user = await app.sign_up()
    account = await app.add_paper_account(user.token)
    ids = await _resting_orders(app, user, account, 2)
    await app.data(AUTO, {"a": account.id}, token=user.token)

    reply = await _say(app, user, account, "cancel all")
    (call,) = reply["toolCalls"]
    assert sorted(call["result"]["canceled"]) == sorted(ids)
    assert call["result"]["proposal"]["status"] == "CONFIRMED"
    assert reply["text"].startswith("Done: Cancel all 2 open orders on Main (PAPER)")
    assert await _open(app, user, account) == set()

    nothing = await _say(app, user, account, "cancel all")
    assert nothing["proposals"] == []
    assert nothing["text"] == "There were no open orders to cancel on Main (PAPER)."


@pytest.mark.parametrize("environment", ["PAPER", "LIVE"])
async def test_trade02_risk01_sell_everything_closes_each_position_on_confirm(
    app: InProcessApp, owner: asyncpg.Connection, environment: str
) -> None:
    """TRADE-02, RISK-01, RISK-04: "sell everything" is a CLOSE_ALL proposal of the held
    symbols; nothing is sent until confirmOrder, which closes each position in full with
    a market order the guard judged and allowed although the symbol is denied and the
    position is over the order size limit: a close only reduces."""
    app.sandbox.set_market_open(False)
    user = await app.sign_up()
    held = [
        {"symbol": "KO", "qty": "20", "avg_entry_price": "62"},
        {"symbol": "UBER", "qty": "7", "avg_entry_price": "72"},
    ]
    account = await app.add_paper_account(user.token, environment=environment, positions=held)
    limits = {"deniedSymbols": ["KO"], "maxOrderNotional": "100"}
    await app.data(
        """mutation($a: UUID!, $input: AccountLimitsInput!) {
          setAccountLimits(accountId: $a, input: $input) { id } }""",
        {"a": account.id, "input": limits},
        token=user.token,
    )

    reply = await _say(app, user, account, "sell everything")
    (proposal,) = reply["proposals"]
    assert proposal["kind"] == "CLOSE_ALL" and sorted(proposal["targets"]) == ["KO", "UBER"]
    assert proposal["summary"].startswith("Close all 2 positions (")
    assert await _open(app, user, account) == set()

    assert (await app.gql(CONFIRM, {"p": proposal["id"]}, token=user.token))["data"] == {
        "confirmOrder": None
    }
    closing = (await app.data(ORDERS, {"a": account.id}, token=user.token))["orders"]
    assert sorted((o["symbol"], o["side"], o["qty"]) for o in closing) == [
        ("KO", "SELL", "20"),
        ("UBER", "SELL", "7"),
    ]
    trail = await owner.fetch(
        "select event, source, symbol from app.guard_audit where account_id = $1"
        " and source = 'close'",
        UUID(account.id),
    )
    assert sorted((r["event"], r["symbol"]) for r in trail) == [
        ("ALLOWED", "KO"),
        ("ALLOWED", "UBER"),
    ]
