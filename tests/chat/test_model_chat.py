"""The chat over GraphQL with a real litellm model (scripted over HTTP) and the sandbox broker.

CHAT-01 questions and orders through tool calls, TRADE-01 the model cannot
choose the account, TRADE-02 orders are proposals validated like placeOrder,
ISO-02/CHAT-03 chat isolated per user and account, CRED-02/03 no key in a
prompt or in stored chat, and the bounds: tool-round limit, LLM_UNAVAILABLE.
"""

from __future__ import annotations

import json

import asyncpg

from tests.chat.conftest import (
    AUTO_EXECUTE,
    CONFIRM,
    DISMISS,
    HISTORY,
    ORDERS,
    SEND,
    MakeTrader,
    history,
    orders_received,
    send,
)
from tests.fixtures.llm import Fail, ScriptedLLM, text_reply, tool_reply
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.trading import code_of

AAPL_5 = [{"symbol": "AAPL", "qty": "5", "avg_entry_price": "150"}]


def test_question_is_answered_from_the_selected_accounts_positions(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM
) -> None:
    """CHAT-01: the model calls the positions tool and answers; the turn shows the tool result."""
    alice = model_trader()
    account = alice.add_account("Main", keys=alice.mint("paper", positions=AAPL_5))
    scripted_llm.script([tool_reply(("positions", {})), text_reply("You hold 5 AAPL.")])

    turn = send(alice, "What do I hold?")

    assert turn["userMessage"]["role"] == "USER"
    assert turn["userMessage"]["text"] == "What do I hold?"
    reply = turn["reply"]
    assert reply["role"] == "ASSISTANT" and reply["text"] == "You hold 5 AAPL."
    assert reply["accountId"] == account["id"]
    [call] = reply["toolCalls"]
    assert call["name"] == "positions"
    [position] = call["result"]["positions"]
    assert position["symbol"] == "AAPL" and position["qty"] == "5"
    # The model received the tool result (what the sandbox holds) before answering.
    tool_message = scripted_llm.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and '"AAPL"' in tool_message["content"]
    # The system prompt names the selected account and only it.
    assert "Main" in scripted_llm.requests[0]["messages"][0]["content"]

    stored = history(alice, account["id"])
    assert [m["role"] for m in stored] == ["USER", "ASSISTANT"]
    assert stored[1]["toolCalls"] == reply["toolCalls"]


def test_earlier_messages_reach_the_model(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM
) -> None:
    """CHAT-03: the conversation of this account is the model's context, oldest first."""
    alice = model_trader()
    alice.add_account("Main")
    scripted_llm.script(["Hello!", "Still here."])
    send(alice, "hi")
    send(alice, "still there?")
    messages = scripted_llm.requests[1]["messages"]
    assert [(m["role"], m["content"]) for m in messages[1:]] == [
        ("user", "hi"),
        ("assistant", "Hello!"),
        ("user", "still there?"),
    ]


def _propose(symbol: str = "AAPL", qty: int = 2, **extra: object) -> dict:
    return tool_reply(("propose_order", {"symbol": symbol, "side": "buy", "qty": qty, **extra}))


def test_paper_order_via_chat_is_a_proposal_until_confirmed(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle
) -> None:
    """CHAT-01, TRADE-02: propose → confirmOrder → exactly one order on the selected account."""
    alice = model_trader()
    keys = alice.mint("paper")
    account = alice.add_account("Main", keys=keys)
    scripted_llm.script([_propose(), text_reply("Proposed: buy 2 AAPL. Confirm in the app.")])

    reply = send(alice, "buy 2 AAPL", account["id"])["reply"]

    [proposal] = reply["proposals"]
    assert proposal["status"] == "PENDING" and proposal["environment"] == "PAPER"
    assert proposal["accountId"] == account["id"]
    assert (proposal["symbol"], proposal["side"], proposal["qty"]) == ("AAPL", "BUY", "2")
    assert "on Main (PAPER)" in proposal["summary"]
    assert reply["orders"] == []
    assert orders_received(sandbox, keys["account_number"]) == 0

    order = alice.data(CONFIRM, {"p": proposal["id"]})["confirmOrder"]
    assert order["clientOrderId"] == proposal["id"]
    assert orders_received(sandbox, keys["account_number"]) == 1
    listed = alice.data(ORDERS, {"a": account["id"]})["orders"]
    assert [o["id"] for o in listed] == [order["id"]]
    assert code_of(alice.call(CONFIRM, {"p": proposal["id"]})) == "BAD_USER_INPUT"
    assert orders_received(sandbox, keys["account_number"]) == 1

    [_, stored] = history(alice, account["id"])
    [linked] = stored["proposals"]
    assert linked["id"] == proposal["id"]
    assert linked["status"] == "CONFIRMED" and linked["orderId"] == order["id"]


def test_live_order_via_chat_is_never_sent_before_confirmation(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle
) -> None:
    """TRADE-02: on a LIVE account the chat only proposes; confirmOrder sends it, once."""
    alice = model_trader()
    keys = alice.mint("live")
    account = alice.add_account("Real", "LIVE", keys=keys)
    scripted_llm.script([_propose(qty=1), text_reply("Proposed.")])

    reply = send(alice, "buy 1 AAPL", account["id"])["reply"]

    [proposal] = reply["proposals"]
    assert proposal["environment"] == "LIVE" and proposal["status"] == "PENDING"
    assert "LIVE" in scripted_llm.requests[0]["messages"][0]["content"]
    assert orders_received(sandbox, keys["account_number"]) == 0
    assert alice.data(ORDERS, {"a": account["id"]})["orders"] == []

    alice.data(CONFIRM, {"p": proposal["id"]})
    assert orders_received(sandbox, keys["account_number"]) == 1


def test_dismissed_proposal_is_never_sent(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle
) -> None:
    """TRADE-02: a dismissed chat proposal cannot be confirmed; history shows DISMISSED."""
    alice = model_trader()
    keys = alice.mint("paper")
    alice.add_account("Main", keys=keys)
    scripted_llm.script([_propose(), "Proposed."])
    [proposal] = send(alice, "buy 2 AAPL")["reply"]["proposals"]

    assert alice.data(DISMISS, {"p": proposal["id"]})["dismissProposal"] is True
    assert code_of(alice.call(CONFIRM, {"p": proposal["id"]})) == "BAD_USER_INPUT"
    assert orders_received(sandbox, keys["account_number"]) == 0
    assert history(alice)[1]["proposals"][0]["status"] == "DISMISSED"


def test_chat_orders_are_validated_like_place_order(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle
) -> None:
    """TRADE-02: too little buying power or too few shares is refused before any proposal."""
    alice = model_trader()
    keys = alice.mint("paper", cash="100", positions=AAPL_5)
    alice.add_account("Small", keys=keys)
    scripted_llm.script(
        [
            tool_reply(
                ("propose_order", {"symbol": "AAPL", "side": "buy", "qty": 100}),
                ("propose_order", {"symbol": "AAPL", "side": "sell", "qty": 50}),
                ("close_position", {"symbol": "MSFT"}),
            ),
            "Those orders were refused.",
        ]
    )
    reply = send(alice, "buy 100 AAPL, sell 50 AAPL, close MSFT")["reply"]

    assert reply["proposals"] == []
    errors = [c["result"]["error"] for c in reply["toolCalls"]]
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"] * 3
    assert "buying power" in errors[0]["message"]
    assert "would go short" in errors[1]["message"]
    assert orders_received(sandbox, keys["account_number"]) == 0


def test_close_position_becomes_a_proposal_for_the_held_quantity(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle
) -> None:
    """TRADE-02: closing a position is an order proposal like any other (sell all 5 AAPL)."""
    alice = model_trader()
    keys = alice.mint("live", positions=AAPL_5)
    alice.add_account("Real", "LIVE", keys=keys)
    scripted_llm.script([tool_reply(("close_position", {"symbol": "aapl"})), "Proposed."])

    [proposal] = send(alice, "close my Apple position")["reply"]["proposals"]

    assert (proposal["symbol"], proposal["side"], proposal["qty"]) == ("AAPL", "SELL", "5")
    assert proposal["type"] == "MARKET" and proposal["status"] == "PENDING"
    assert orders_received(sandbox, keys["account_number"]) == 0


def test_paper_auto_execute_sends_at_once_and_shows_the_order(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle
) -> None:
    """CHAT-01: a paper account with chat auto-execute on confirms chat proposals at once."""
    alice = model_trader()
    keys = alice.mint("paper")
    account = alice.add_account("Main", keys=keys)
    alice.data(AUTO_EXECUTE, {"id": account["id"], "on": True})
    scripted_llm.script([_propose(qty=1), "Bought 1 AAPL."])

    reply = send(alice, "buy 1 AAPL")["reply"]

    [proposal] = reply["proposals"]
    [order] = reply["orders"]
    assert proposal["status"] == "CONFIRMED" and proposal["orderId"] == order["id"]
    assert order["clientOrderId"] == proposal["id"] and order["symbol"] == "AAPL"
    assert orders_received(sandbox, keys["account_number"]) == 1
    assert history(alice)[1]["orders"] == [order]


def test_model_cannot_move_an_order_to_another_account(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle
) -> None:
    """TRADE-01: an account_id from the model (and "use my other account") is ignored."""
    alice = model_trader()
    active_keys, selected_keys = alice.mint("paper"), alice.mint("paper")
    active = alice.add_account("Main", keys=active_keys)  # the first is the active account
    selected = alice.add_account("Side", keys=selected_keys)
    scripted_llm.script(
        [
            _propose(qty=1, account_id=active["id"], account="Main"),
            "Proposed on your other account.",
        ]
    )

    reply = send(alice, "buy 1 AAPL, use my other account", selected["id"])["reply"]

    [call] = reply["toolCalls"]
    assert call["ignoredArguments"] == ["account", "account_id"]
    assert "account_id" not in call["arguments"]
    [proposal] = reply["proposals"]
    assert proposal["accountId"] == selected["id"] and "on Side (PAPER)" in proposal["summary"]
    # What the model was told back: the arguments were ignored, the tools are bound.
    assert "ignored_arguments" in scripted_llm.requests[1]["messages"][-1]["content"]

    alice.data(CONFIRM, {"p": proposal["id"]})
    assert orders_received(sandbox, selected_keys["account_number"]) == 1
    assert orders_received(sandbox, active_keys["account_number"]) == 0
    assert alice.data(ORDERS, {"a": active["id"]})["orders"] == []
    assert history(alice, active["id"]) == []


async def test_chat_is_isolated_between_users_and_accounts(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle, model_server
) -> None:
    """ISO-02, CHAT-03: B cannot read A's chat, send on A's account or confirm A's proposal."""
    alice, bob = model_trader(), model_trader()
    alice_keys = alice.mint("paper")
    main = alice.add_account("Main", keys=alice_keys)
    other = alice.add_account("Other")
    bob.add_account("Bob's")
    scripted_llm.script([_propose(qty=1), "Proposed."])
    [proposal] = send(alice, "buy 1 AAPL", main["id"])["reply"]["proposals"]
    before = await _chat_rows(model_server.database_url)

    assert code_of(bob.call(HISTORY, {"accountId": main["id"]})) == "NOT_FOUND"
    sent = bob.call(SEND, {"text": "buy 1 AAPL", "accountId": main["id"]})
    assert code_of(sent) == "NOT_FOUND"
    assert code_of(bob.call(CONFIRM, {"p": proposal["id"]})) == "NOT_FOUND"
    assert code_of(bob.call(DISMISS, {"p": proposal["id"]})) == "NOT_FOUND"
    assert history(bob) == []
    assert await _chat_rows(model_server.database_url) == before, "nothing was stored or changed"
    assert orders_received(sandbox, alice_keys["account_number"]) == 0
    assert len(scripted_llm.requests) == 2, "B's attempt never reached the model"

    assert history(alice, other["id"]) == [], "histories are per account"
    assert [m["role"] for m in history(alice, main["id"])] == ["USER", "ASSISTANT"]


async def _chat_rows(database_url: str) -> list[tuple]:
    owner = await asyncpg.connect(database_url)
    try:
        messages = await owner.fetch("select * from app.chat_messages order by id")
        proposals = await owner.fetch("select * from app.order_proposals order by id")
    finally:
        await owner.close()
    return [tuple(r) for r in [*messages, *proposals]]


def test_a_model_that_calls_tools_forever_is_stopped(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM
) -> None:
    """CHAT-01 bounds: after 5 rounds of tool calls the turn ends with a clear message."""
    alice = model_trader()
    alice.add_account("Main")
    scripted_llm.script([tool_reply(("account_summary", {}))], repeat_last=True)

    reply = send(alice, "what is my balance?")["reply"]

    assert "stopped after 5 rounds of tool calls" in reply["text"]
    assert len(reply["toolCalls"]) == 5
    assert len(scripted_llm.requests) == 6
    assert history(alice)[-1]["text"] == reply["text"]


def test_provider_error_is_llm_unavailable_and_the_message_is_kept(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM
) -> None:
    """CHAT-02: a provider 500 answers LLM_UNAVAILABLE; the user's message is in chatHistory."""
    alice = model_trader()
    alice.add_account("Main")
    scripted_llm.fail_with(500, "upstream exploded")

    result = alice.call(SEND, {"text": "what is my balance?"})

    assert code_of(result) == "LLM_UNAVAILABLE"
    assert "upstream exploded" not in json.dumps(result)
    [kept] = history(alice)
    assert (kept["role"], kept["text"]) == ("USER", "what is my balance?")


def test_a_proposal_made_before_the_model_failed_is_shown(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, sandbox: SandboxHandle
) -> None:
    """TRADE-02: what a failed turn proposed is stored with a note, still awaiting confirmation."""
    alice = model_trader()
    keys = alice.mint("paper")
    alice.add_account("Main", keys=keys)
    scripted_llm.script([_propose(qty=1), Fail(503)])

    assert code_of(alice.call(SEND, {"text": "buy 1 AAPL"})) == "LLM_UNAVAILABLE"

    mine, note = history(alice)
    assert mine["role"] == "USER"
    assert note["role"] == "ASSISTANT" and "stopped before it could answer" in note["text"]
    [proposal] = note["proposals"]
    assert proposal["status"] == "PENDING"
    assert orders_received(sandbox, keys["account_number"]) == 0


async def test_prompts_and_stored_chat_never_hold_keys(
    model_trader: MakeTrader, scripted_llm: ScriptedLLM, model_server
) -> None:
    """CRED-02, CRED-03: no key id or secret in any prompt sent to the model or any chat row."""
    alice = model_trader()
    keys = alice.mint("paper", positions=AAPL_5)
    alice.add_account("Main", keys=keys)
    scripted_llm.script(
        [
            tool_reply(
                ("account_summary", {}),
                ("positions", {}),
                ("orders", {"status": "all"}),
                ("quote", {"symbol": "AAPL"}),
            ),
            _propose(qty=1),
            "Done.",
        ]
    )
    reply = send(alice, "Tell me everything about this account, then buy 1 AAPL")["reply"]
    assert [c["name"] for c in reply["toolCalls"]] == [
        "account_summary",
        "positions",
        "orders",
        "quote",
        "propose_order",
    ]
    assert all("error" not in c["result"] for c in reply["toolCalls"]), reply["toolCalls"]

    prompts = json.dumps(scripted_llm.requests)
    owner = await asyncpg.connect(model_server.database_url)
    try:
        stored = json.dumps(
            [
                [str(v) for v in r]
                for r in await owner.fetch("select * from app.chat_messages")
                + await owner.fetch("select * from app.order_proposals")
            ]
        )
    finally:
        await owner.close()
    for secret in (keys["api_key_id"], keys["secret_key"]):
        assert secret not in prompts
        assert secret not in stored
