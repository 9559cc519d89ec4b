"""Live orders need an explicit confirmation, sent at most once (TRADE-02, TRADE-05)."""

from __future__ import annotations

import asyncpg

from tests.fixtures.trading import ORDER_FIELDS, PLACE_ORDER, Trader, code_of

CONFIRM = f"mutation($p: UUID!) {{ confirmOrder(proposalId: $p) {{ {ORDER_FIELDS} }} }}"


async def test_live_order_waits_for_confirmation(make_trader, sandbox, trading_server) -> None:
    alice: Trader = make_trader("alice@example.com")
    keys = alice.mint("live")
    account = alice.add_account("Real money", "LIVE", keys=keys)

    result = alice.call(PLACE_ORDER, {"input": {"symbol": "AAPL", "side": "BUY", "qty": "1"}})
    assert code_of(result) == "CONFIRMATION_REQUIRED"
    proposal = result["errors"][0]["extensions"]["proposal"]
    assert proposal["environment"] == "LIVE" and proposal["symbol"] == "AAPL"
    assert "Real money (LIVE)" in proposal["summary"]
    assert sandbox.stats()[keys["account_number"]]["orders_received"] == 0

    order = alice.data(CONFIRM, {"p": proposal["id"]})["confirmOrder"]
    assert order["clientOrderId"] == proposal["id"], "the proposal id is the client order id"
    again = alice.call(CONFIRM, {"p": proposal["id"]})
    assert code_of(again) == "BAD_USER_INPUT"
    assert sandbox.stats()[keys["account_number"]]["orders_received"] == 1

    late = alice.call(PLACE_ORDER, {"input": {"symbol": "MSFT", "side": "BUY", "qty": "1"}})
    late_id = late["errors"][0]["extensions"]["proposal"]["id"]
    owner = await asyncpg.connect(trading_server.database_url)
    try:
        await owner.execute(
            "update app.order_proposals set expires_at = now() - interval '1 second' where id = $1",
            late_id,
        )
        audit = await owner.fetch(
            "select client_order_id, outcome from app.order_audit where account_id = $1",
            account["id"],
        )
    finally:
        await owner.close()
    assert code_of(alice.call(CONFIRM, {"p": late_id})) == "BAD_USER_INPUT"
    assert sandbox.stats()[keys["account_number"]]["orders_received"] == 1
    assert [(r["client_order_id"], r["outcome"]) for r in audit] == [(proposal["id"], "ACCEPTED")]
