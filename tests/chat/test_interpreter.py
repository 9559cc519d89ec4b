"""The offline command interpreter (CHAT-02): phrasings to tool calls, replies from results.

Every row runs through `ChatEngine` with the interpreter driver, so the
arguments asserted are the validated ones that reached the bound actions
(TRADE-01: the same registry as the model's).
"""

from __future__ import annotations

from typing import Any

import pytest

from api.chat import AccountContext, ChatEngine
from api.chat.interpreter import HELP, NOT_UNDERSTOOD, THANKS, Interpreter, parse
from tests.chat.fakes import RecordingActions

MAIN = AccountContext("Main", "PAPER")
ORDER_ID = "61e69015-8549-4bfd-b9c3-01e75843f47d"


def order(symbol: str, side: str, **extra: str) -> dict[str, Any]:
    return {"symbol": symbol, "side": side, "type": "market", "time_in_force": "day", **extra}


PHRASINGS: list[tuple[str, str, dict[str, Any]]] = [
    # orders: quantity, market
    ("buy 10 AAPL", "propose_order", order("AAPL", "buy", qty="10")),
    ("buy 10 shares of aapl", "propose_order", order("AAPL", "buy", qty="10")),
    ("Please buy 10 shares of AAPL.", "propose_order", order("AAPL", "buy", qty="10")),
    ("sell 2.5 aapl", "propose_order", order("AAPL", "sell", qty="2.5")),
    ("buy 1,000 f at market", "propose_order", order("F", "buy", qty="1000")),
    ("buy 10 aapl gtc", "propose_order", order("AAPL", "buy", qty="10", time_in_force="gtc")),
    # crypto pairs and share classes, by the order vocabulary's symbol rule (ORD-05)
    (
        "buy 0.01 btc/usd gtc",
        "propose_order",
        order("BTC/USD", "buy", qty="0.01", time_in_force="gtc"),
    ),
    ("buy 2 brk.b", "propose_order", order("BRK.B", "buy", qty="2")),
    # limits and stops
    (
        "sell 5 tsla at 250 limit",
        "propose_order",
        order("TSLA", "sell", qty="5", type="limit", limit_price="250"),
    ),
    (
        "sell 5 TSLA limit 250",
        "propose_order",
        order("TSLA", "sell", qty="5", type="limit", limit_price="250"),
    ),
    (
        "sell 5 tsla at $250.50",
        "propose_order",
        order("TSLA", "sell", qty="5", type="limit", limit_price="250.5"),
    ),
    (
        "buy 3 msft stop 400",
        "propose_order",
        order("MSFT", "buy", qty="3", type="stop", stop_price="400"),
    ),
    (
        "buy 2 aapl stop 200 limit 201 gtc",
        "propose_order",
        order(
            "AAPL",
            "buy",
            qty="2",
            type="stop_limit",
            stop_price="200",
            limit_price="201",
            time_in_force="gtc",
        ),
    ),
    # notional
    ("buy $500 of SPY", "propose_order", order("SPY", "buy", notional="500")),
    ("buy 500 dollars of spy", "propose_order", order("SPY", "buy", notional="500")),
    ("buy $1,250.50 worth of voo", "propose_order", order("VOO", "buy", notional="1250.5")),
    # cancel
    (f"cancel {ORDER_ID}", "cancel_order", {"order_id": ORDER_ID}),
    (f"cancel order {ORDER_ID}", "cancel_order", {"order_id": ORDER_ID}),
    ("cancel all", "cancel_order", {"all": True}),
    ("cancel all orders", "cancel_order", {"all": True}),
    ("Cancel all my open orders!", "cancel_order", {"all": True}),
    # close
    ("close AAPL", "close_position", {"symbol": "AAPL"}),
    ("close my aapl position", "close_position", {"symbol": "AAPL"}),
    ("close out tsla", "close_position", {"symbol": "TSLA"}),
    ("sell all of my nvda", "close_position", {"symbol": "NVDA"}),
    # close everything (one proposal: TRADE-02)
    ("sell everything", "close_all_positions", {}),
    ("close all", "close_all_positions", {}),
    ("close all my positions", "close_all_positions", {}),
    ("liquidate everything please", "close_all_positions", {}),
    # positions
    ("positions", "positions", {}),
    ("what do I hold", "positions", {}),
    ("show my positions", "positions", {}),
    ("What do I own?", "positions", {}),
    ("holdings", "positions", {}),
    # orders
    ("orders", "orders", {"status": "open"}),
    ("open orders", "orders", {"status": "open"}),
    ("show orders", "orders", {"status": "open"}),
    ("show me my closed orders", "orders", {"status": "closed"}),
    ("all orders", "orders", {"status": "all"}),
    ("order history", "orders", {"status": "all"}),
    # balance
    ("balance", "account_summary", {}),
    ("buying power", "account_summary", {}),
    ("how much cash do I have", "account_summary", {}),
    ("account", "account_summary", {}),
    ("what's my balance?", "account_summary", {}),
    ("how is my portfolio doing", "account_summary", {}),
    ("How's my account doing today?", "account_summary", {}),
    # quotes
    ("quote NVDA", "quote", {"symbol": "NVDA"}),
    ("price of nvda", "quote", {"symbol": "NVDA"}),
    ("what's AAPL trading at", "quote", {"symbol": "AAPL"}),
    ("What\u2019s the price of tsla?", "quote", {"symbol": "TSLA"}),
    ("aapl price", "quote", {"symbol": "AAPL"}),
    ("how much is msft", "quote", {"symbol": "MSFT"}),
]


@pytest.mark.parametrize(("text", "tool", "arguments"), PHRASINGS)
async def test_chat02_phrasing_becomes_a_tool_call(text: str, tool: str, arguments: dict[str, Any]):
    """CHAT-02: each phrasing makes exactly one tool call on the bound account."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn(text, [], MAIN, actions)
    assert turn.driver == "interpreter"
    [call] = turn.tool_calls
    assert (call.name, call.arguments) == (tool, arguments)
    assert len(actions.calls) == 1
    assert turn.text and turn.text != HELP


ADVANCED: list[tuple[str, str, dict[str, Any]]] = [
    (
        "buy 10 AAPL with stop 180 and target 210",
        "propose_order",
        order(
            "AAPL", "buy", qty="10", order_class="bracket",
            take_profit_limit_price="210", stop_loss_stop_price="180",
        ),
    ),
    (
        "buy 5 msft limit 400 take profit 450 gtc",
        "propose_order",
        order(
            "MSFT", "buy", qty="5", type="limit", limit_price="400", order_class="oto",
            take_profit_limit_price="450", time_in_force="gtc",
        ),
    ),
    (
        "trailing stop 5% on TSLA",
        "propose_order",
        order("TSLA", "sell", qty="3", type="trailing_stop", trail_percent="5",
              time_in_force="gtc"),
    ),
    (
        "set a trailing stop of $4 on my AAPL",
        "propose_order",
        order("AAPL", "sell", qty="10", type="trailing_stop", trail_price="4",
              time_in_force="gtc"),
    ),
    ("close half my NVDA", "close_position", {"symbol": "NVDA", "percentage": "50"}),
    ("sell 25% of my AAPL", "close_position", {"symbol": "AAPL", "percentage": "25"}),
    ("buy 0.01 BTC", "propose_order", order("BTC/USD", "buy", qty="0.01", time_in_force="gtc")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "tool", "arguments"), ADVANCED)
async def test_ord01_ord03_ord04_advanced_phrasings_become_one_order_tool_call(
    text: str, tool: str, arguments: dict[str, Any]
) -> None:
    """ORD-01, ORD-03, ORD-04: a bracket, an OTO, a trailing stop for the position held
    (its quantity read from the positions), a partial close and a crypto coin named alone
    reach the ONE order tool (or the close tool) with the vocabulary's arguments."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn(text, [], MAIN, actions)
    call = turn.tool_calls[-1]
    expected = {k: v for k, v in arguments.items()}
    shown = {k: str(v) if not isinstance(v, str) else v for k, v in call.arguments.items()}
    assert (call.name, shown) == (tool, expected)
    assert turn.text and turn.text != HELP


def test_chat02_the_table_is_broad():
    """CHAT-02: at least 30 phrasings are pinned down."""
    assert len(PHRASINGS) >= 30


@pytest.mark.parametrize("text", ["help", "what can you do", ""])
async def test_chat02_help_gets_the_whole_list_and_touches_nothing(text: str):
    """CHAT-02: asking for help (or sending nothing) answers with every command."""
    actions = RecordingActions()
    assert parse(text) == parse("help")
    assert parse(text).answer == HELP
    if text:
        turn = await ChatEngine(Interpreter()).run_turn(text, [], MAIN, actions)
        assert (turn.tool_calls, turn.text) == ((), HELP)
    assert actions.calls == []


@pytest.mark.parametrize(
    "text",
    [
        "hello there",
        "what is the meaning of life",
        "buy",
        "buy 10 aapl if it drops below 150",
        "sell 5 tsla tomorrow morning",
        "buy 10 aapl at market limit 100",
        "close all aapl and msft",
        "transfer $500 to my other account",
    ],
)
async def test_chat02_anything_else_gets_a_short_answer_and_touches_nothing(text: str):
    """CHAT-02: unknown text (or an order with words it does not understand) gets a short
    answer with a few examples, not the whole help text, and no tool runs."""
    actions = RecordingActions()
    assert parse(text).answer == NOT_UNDERSTOOD
    turn = await ChatEngine(Interpreter()).run_turn(text, [], MAIN, actions)
    assert (turn.tool_calls, turn.text) == ((), NOT_UNDERSTOOD)
    assert len(NOT_UNDERSTOOD) < len(HELP) / 2
    assert NOT_UNDERSTOOD.count("“") in (2, 3, 4)  # two or three examples, and "help"
    assert actions.calls == []


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("buy aapl", "How many AAPL do you want to buy?"),
        ("Buy some TSLA please", "How many TSLA do you want to buy?"),
        ("sell msft", "How many MSFT do you want to sell?"),
        ("buy btc", "How many BTC/USD do you want to buy?"),
    ],
)
async def test_chat02_an_order_without_an_amount_asks_how_many(text: str, asked: str):
    """CHAT-02, TRADE-02: "buy AAPL" is never guessed into a quantity: the reply asks how
    many, with an example to copy, and nothing is proposed."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn(text, [], MAIN, actions)
    assert turn.tool_calls == ()
    assert turn.text.startswith(asked)
    assert "“" in turn.text
    assert actions.calls == []


@pytest.mark.parametrize("text", ["thanks", "Thank you!", "ok thanks", "thx", "cheers"])
async def test_chat02_thanks_gets_a_short_polite_answer(text: str):
    """CHAT-02: thanks is answered in a line, with no tool and no help text."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn(text, [], MAIN, actions)
    assert (turn.tool_calls, turn.text) == ((), THANKS)
    assert actions.calls == []


async def test_chat02_cancel_without_an_id_asks_for_one():
    """CHAT-02: "cancel aapl" is not guessed into an order id."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn("cancel aapl", [], MAIN, actions)
    assert turn.tool_calls == ()
    assert "cancel all" in turn.text
    assert actions.calls == []


async def test_chat02_proposal_reply_is_rendered_from_the_result():
    """CHAT-02: the reply states the proposal as the service made it; it needs confirming."""
    turn = await ChatEngine(Interpreter()).run_turn("buy 10 AAPL", [], MAIN, RecordingActions())
    assert turn.text == (
        "Proposed: Buy 10 AAPL at market on Main (PAPER), est. $1,901.20 — confirm to send."
    )
    assert turn.proposals[0]["symbol"] == "AAPL"


async def test_chat02_replies_are_readable():
    """CHAT-02: positions, orders, balance, quotes and cancels render as short messages."""
    engine = ChatEngine(Interpreter())
    actions = RecordingActions()

    async def say(text: str) -> str:
        return (await engine.run_turn(text, [], MAIN, actions)).text

    assert await say("positions") == (
        "Positions on Main (PAPER):\n"
        "• AAPL: 10 @ $180.00 avg, now $190.12, P/L +$101.20\n"
        "• TSLA: 3 @ $260.00 avg, now $250.00, P/L \u2212$30.00"
    )
    assert await say("balance") == (
        "Main (PAPER)\n"
        "Cash $10,000.00 · Equity $12,001.20 · Buying power $20,000.00\n"
        "Today \u2212$12.34 (\u22120.10%)"
    )
    assert await say("quote aapl") == "AAPL: bid $190.10 · ask $190.14 · last $190.12"
    assert await say("orders") == (
        f"Orders on Main (PAPER):\n• Buy 5 AAPL limit $150.00 (GTC) — new · id {ORDER_ID}"
    )
    assert await say(f"cancel {ORDER_ID}") == f"Canceled order {ORDER_ID}."
    assert await say("cancel all") == "There were no open orders to cancel on Main (PAPER)."
    assert (await say(f"cancel {ORDER_ID}")).startswith("Couldn't do that: No open order")


async def test_chat02_invalid_order_is_refused_before_the_account():
    """CHAT-02/TRADE-02: dollar amounts work only for market orders; nothing is proposed."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn("buy $500 of spy limit 400", [], MAIN, actions)
    assert actions.calls == []
    assert turn.proposals == ()
    assert "market orders" in turn.text
    assert "Nothing was proposed" in turn.text


async def test_chat02_live_account_is_named_in_replies():
    """TRADE-01: replies name the bound account and whether it is LIVE."""
    live = AccountContext("Brokerage", "LIVE")
    turn = await ChatEngine(Interpreter()).run_turn("close aapl", [], live, RecordingActions(live))
    assert "on Brokerage (LIVE)" in turn.text
    assert "confirm to send" in turn.text


def test_chat02_renders_the_graphql_proposal_shape_too():
    """CHAT-02: a proposal in the GraphQL JSON shape (camelCase, upper case) renders the same."""
    from api.chat.render import render_call
    from api.chat.tools import ToolCall

    proposal = {
        "symbol": "TSLA",
        "side": "SELL",
        "type": "LIMIT",
        "qty": "5",
        "limitPrice": "250.5",
        "timeInForce": "GTC",
        "estimatedCost": "1252.50",
        "status": "PENDING",
    }
    text = render_call(ToolCall("propose_order", {}, {"proposal": proposal}), MAIN)
    assert text == (
        "Proposed: Sell 5 TSLA limit $250.50 (GTC) on Main (PAPER), est. $1,252.50 "
        "— confirm to send."
    )


@pytest.mark.parametrize(
    "text",
    [
        "change my AAPL limit to 185",
        "move the aapl limit price to $185",
        "update my AAPL order's limit to 185",
    ],
)
async def test_ord02_change_my_limit_replaces_the_one_open_order(text: str) -> None:
    """ORD-02, TRADE-02: "change my AAPL limit to 185" finds the one open AAPL order with a
    limit price and proposes replacing its limit, through the replace tool; nothing is sent."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn(text, [], MAIN, actions)
    assert [c.name for c in turn.tool_calls] == ["orders", "replace_order"]
    assert turn.tool_calls[-1].arguments == {"order_id": ORDER_ID, "limit_price": "185"}
    assert actions.calls[-1] == ("replace_order", {"order_id": ORDER_ID, "limit_price": "185"})
    assert turn.text.startswith("Proposed: Buy 5 AAPL limit $185.00 on Main (PAPER)")
    assert "confirm to send" in turn.text


async def test_ord02_change_my_limit_with_several_or_no_orders_changes_nothing() -> None:
    """ORD-02: with two open AAPL limit orders, or none in TSLA, the reply says so and no
    replace is made: the interpreter never guesses which order was meant."""
    other = "7a0d5f3e-1111-4bfd-b9c3-01e75843f47d"
    several = RecordingActions(open_orders=[ORDER_ID, other])
    turn = await ChatEngine(Interpreter()).run_turn(
        "change my AAPL limit to 185", [], MAIN, several
    )
    assert [c.name for c in turn.tool_calls] == ["orders"]
    assert "There are 2 open AAPL orders with a limit price on Main (PAPER)" in turn.text
    assert ORDER_ID in turn.text and other in turn.text and "Nothing changed" in turn.text

    none = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn("change my TSLA limit to 200", [], MAIN, none)
    assert [c.name for c in turn.tool_calls] == ["orders"]
    assert turn.text == (
        "There is no open TSLA order with a limit price on Main (PAPER); nothing changed."
    )
    assert [name for name, _ in several.calls + none.calls] == ["orders", "orders"]


async def test_ord02_a_bad_new_limit_is_refused_and_an_own_limit_is_not_an_order() -> None:
    """ORD-02, RISK-03: a new limit of 0 is refused by the vocabulary before the account; "set
    my daily limit to 500" is about the account's own limits, which the chat never changes."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn("change my AAPL limit to 0", [], MAIN, actions)
    assert not turn.tool_calls[-1].ok
    assert "Limit price must be more than zero" in turn.text
    assert "Nothing was changed on Main (PAPER)" in turn.text
    assert [name for name, _ in actions.calls] == ["orders"]
    assert parse("set my daily limit to 500").tool is None
    assert parse("set my max limit to 500").tool is None
