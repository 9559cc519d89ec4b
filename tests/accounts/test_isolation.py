"""ISO-01, ISO-02: another user's account id answers NOT_FOUND everywhere and changes nothing."""

from __future__ import annotations

import uuid

import asyncpg

from tests.fixtures.trading import PLACE_ORDER, Trader, code_of

BY_ACCOUNT_ID = {
    "account": "query($id: UUID!) { account(id: $id) { id nickname } }",
    "snapshot": "query($id: UUID!) { account(id: $id) { snapshot { cash } } }",
    "positions": "query($id: UUID!) { positions(accountId: $id) { symbol } }",
    "orders": "query($id: UUID!) { orders(accountId: $id, status: ALL) { id } }",
    "chatHistory": "query($id: UUID!) { chatHistory(accountId: $id) { id } }",
    "renameAccount": 'mutation($id: UUID!) { renameAccount(id: $id, nickname: "Mine") { id } }',
    "updateAccountCredentials": """mutation($id: UUID!, $k: String!, $s: String!) {
        updateAccountCredentials(id: $id, apiKeyId: $k, secretKey: $s) { id } }""",
    "setActiveAccount": "mutation($id: UUID!) { setActiveAccount(id: $id) { id } }",
    "setChatAutoExecute": """mutation($id: UUID!) {
        setChatAutoExecute(id: $id, enabled: true) { id } }""",
    "placeOrder": PLACE_ORDER,
    "cancelOrder": 'mutation($id: UUID!) { cancelOrder(accountId: $id, orderId: "x") }',
    "sendChatMessage": """mutation($id: UUID!) {
        sendChatMessage(accountId: $id, text: "buy 1 AAPL") { reply { text } } }""",
    "removeAccount": "mutation($id: UUID!) { removeAccount(id: $id) }",
}


async def _state(database_url: str) -> list:
    owner = await asyncpg.connect(database_url)
    try:
        return [
            tuple(r)
            for table in (
                "broker_accounts",
                "users",
                "chat_messages",
                "order_proposals",
                "order_audit",
            )
            for r in await owner.fetch(f"select * from app.{table} order by 1")
        ]
    finally:
        await owner.close()


async def test_every_operation_refuses_someone_elses_account(
    make_trader, sandbox, trading_server
) -> None:
    alice: Trader = make_trader("alice@example.com")
    bob: Trader = make_trader("bob@example.com")
    keys = alice.mint("paper", positions=[{"symbol": "AAPL", "qty": "5", "avg_entry_price": "150"}])
    target = alice.add_account("Alice main", keys=keys)["id"]
    bob_keys = bob.mint("paper")
    bob.add_account("Bob main", keys=bob_keys)
    alice.data(PLACE_ORDER, {"input": {"symbol": "MSFT", "side": "BUY", "qty": "1"}})

    before_db = await _state(trading_server.database_url)
    before_broker = sandbox.stats()[keys["account_number"]]["orders_received"]
    for account_id in (target, str(uuid.uuid4())):
        for name, query in BY_ACCOUNT_ID.items():
            variables = {"id": account_id, "k": bob_keys["api_key_id"], "s": bob_keys["secret_key"]}
            if name == "placeOrder":
                variables = {
                    "input": {"accountId": account_id, "symbol": "AAPL", "side": "SELL", "qty": "1"}
                }
            result = bob.call(query, variables)
            assert code_of(result) == "NOT_FOUND", (name, result)
            assert "Alice" not in str(result)
    assert await _state(trading_server.database_url) == before_db
    assert sandbox.stats()[keys["account_number"]]["orders_received"] == before_broker

    listed = bob.data("{ accounts { nickname } }")["accounts"]
    assert listed == [{"nickname": "Bob main"}]
