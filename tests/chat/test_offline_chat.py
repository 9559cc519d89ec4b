"""The chat over GraphQL with no model configured: the built-in interpreter (CHAT-02).

The same services, account binding and proposals as with a model, end to end
through the running server and the sandbox broker.
"""

from __future__ import annotations

from tests.chat.conftest import (
    CONFIRM,
    HISTORY,
    ORDERS,
    SEND,
    MakeTrader,
    history,
    orders_received,
    send,
)
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.trading import code_of


def test_buy_command_becomes_a_proposal_then_one_order(
    offline_trader: MakeTrader, sandbox: SandboxHandle
) -> None:
    """CHAT-02, TRADE-02: "buy 1 AAPL" → proposal → confirmOrder → one order in the sandbox."""
    alice = offline_trader()
    keys = alice.mint("paper")
    account = alice.add_account("Main", keys=keys)

    reply = send(alice, "buy 1 AAPL")["reply"]

    [proposal] = reply["proposals"]
    assert proposal["status"] == "PENDING" and proposal["accountId"] == account["id"]
    assert proposal["summary"] in reply["text"]
    assert [c["name"] for c in reply["toolCalls"]] == ["propose_order"]
    assert orders_received(sandbox, keys["account_number"]) == 0

    order = alice.data(CONFIRM, {"p": proposal["id"]})["confirmOrder"]
    assert orders_received(sandbox, keys["account_number"]) == 1
    assert [o["id"] for o in alice.data(ORDERS, {"a": account["id"]})["orders"]] == [order["id"]]


def test_reads_answer_from_the_selected_account(
    offline_trader: MakeTrader, sandbox: SandboxHandle
) -> None:
    """CHAT-01, CHAT-02: positions, balance, quote and orders of the selected account only."""
    alice = offline_trader()
    alice.add_account("Main")
    tsla = [{"symbol": "TSLA", "qty": "3", "avg_entry_price": "1"}]
    side = alice.add_account("Side", keys=alice.mint("paper", positions=tsla))

    positions = send(alice, "positions", side["id"])["reply"]
    assert "TSLA" in positions["text"]
    assert positions["toolCalls"][0]["result"]["positions"][0]["qty"] == "3"
    assert "TSLA" not in send(alice, "positions")["reply"]["text"], "the active account is Main"

    balance = send(alice, "balance", side["id"])["reply"]["toolCalls"][0]["result"]
    assert balance["nickname"] == "Side" and balance["type"] == "PAPER"
    quote = send(alice, "quote NVDA", side["id"])["reply"]["toolCalls"][0]["result"]
    assert quote["symbol"] == "NVDA" and quote["ask"]
    assert [m["role"] for m in history(alice, side["id"])] == ["USER", "ASSISTANT"] * 3


def test_cancel_all_cancels_this_accounts_open_orders(
    offline_trader: MakeTrader, sandbox: SandboxHandle
) -> None:
    """CHAT-01, TRADE-02: "cancel all" proposes cancelling the selected account's open
    orders; confirming cancels them."""
    alice = offline_trader()
    account = alice.add_account("Main")
    sandbox.set_market_open(False)  # orders stay open while the market is closed
    proposal = send(alice, "buy 1 AAPL limit 100")["reply"]["proposals"][0]
    order = alice.data(CONFIRM, {"p": proposal["id"]})["confirmOrder"]

    reply = send(alice, "cancel all")["reply"]

    (everything,) = reply["proposals"]
    assert reply["toolCalls"][0]["result"]["proposal"]["targets"] == [order["id"]]
    [before] = alice.data(ORDERS, {"a": account["id"]})["orders"]
    assert before["status"] not in {"canceled", "pending_cancel"}
    assert alice.data(CONFIRM, {"p": everything["id"]})["confirmOrder"] is None
    [after] = alice.data(ORDERS, {"a": account["id"]})["orders"]
    assert after["status"] in {"canceled", "pending_cancel"}


def test_empty_or_unknown_messages(offline_trader: MakeTrader) -> None:
    """CHAT-02: an empty message is BAD_USER_INPUT and not stored; an unknown one gets help."""
    alice = offline_trader()
    alice.add_account("Main")

    assert code_of(alice.call(SEND, {"text": "   "})) == "BAD_USER_INPUT"
    assert alice.data(HISTORY)["chatHistory"] == []
    assert "buy 10 AAPL" in send(alice, "make me rich")["reply"]["text"]


def test_chat_needs_an_account(offline_trader: MakeTrader) -> None:
    """A user with no account is told to connect one; nothing is stored."""
    alice = offline_trader()
    assert code_of(alice.call(SEND, {"text": "positions"})) == "BAD_USER_INPUT"
    assert code_of(alice.call(HISTORY, {})) == "BAD_USER_INPUT"
