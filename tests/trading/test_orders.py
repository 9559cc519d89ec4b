"""One order vocabulary, one validator: the same verdict on every path (ORD-05, TRADE-02).

Each row is a class of input, written as `placeOrder`'s GraphQL input, with
the field a refusal must name (None: the shape is valid). The same row goes
through the validator itself, the chat's `propose_order` tool (the registry
with its real validation, over a recording stand-in of the account) and
`placeOrder` on a running server. A valid shape may still stop at the
account check: the sandbox lists no crypto and no share classes, so BTC/USD
and BRK.B end at "not a known symbol", after the shape passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api.chat import AccountContext, ChatEngine, build_tools
from api.chat.interpreter import Interpreter
from api.errors import BadUserInput
from api.trading.orders import INPUT_FIELDS, PLACEABLE_TYPES, Side, TimeInForce, validate_intent
from tests.chat.fakes import RecordingActions
from tests.fixtures.postgres import Cluster
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer
from tests.fixtures.trading import PLACE_ORDER, Trader, serve_shared_trading, unique_traders

BUY = {"side": "BUY"}
ROWS: list[tuple[str, dict[str, Any], str | None]] = [
    # valid shapes
    ("stock", {"symbol": "AAPL", **BUY, "qty": "1"}, None),
    ("lower-case symbol", {"symbol": " aapl ", **BUY, "qty": "2"}, None),
    ("share class", {"symbol": "BRK.B", **BUY, "qty": "1"}, None),
    ("crypto pair", {"symbol": "BTC/USD", **BUY, "qty": "0.01", "timeInForce": "GTC"}, None),
    ("fraction, day", {"symbol": "AAPL", **BUY, "qty": "0.5"}, None),
    ("dollar amount", {"symbol": "AAPL", **BUY, "notional": "100"}, None),
    (
        "limit, gtc",
        {
            "symbol": "AAPL",
            **BUY,
            "qty": "1",
            "type": "LIMIT",
            "limitPrice": "180",
            "timeInForce": "GTC",
        },
        None,
    ),
    (
        "stop-limit",
        {
            "symbol": "AAPL",
            **BUY,
            "qty": "1",
            "type": "STOP_LIMIT",
            "stopPrice": "200",
            "limitPrice": "201",
        },
        None,
    ),
    # symbols
    ("symbol with a space", {"symbol": "AAPL; DROP", **BUY, "qty": "1"}, "symbol"),
    ("empty symbol", {"symbol": "", **BUY, "qty": "1"}, "symbol"),
    ("symbol too long", {"symbol": "ABCDEFGHIJKL", **BUY, "qty": "1"}, "symbol"),
    ("half a pair", {"symbol": "BTC/", **BUY, "qty": "1"}, "symbol"),
    ("share class as a pair", {"symbol": "BRK.B/USD", **BUY, "qty": "1"}, "symbol"),
    # enums
    ("unknown side", {"symbol": "AAPL", "side": "HOLD", "qty": "1"}, "side"),
    (
        "trailing stop, no trail",
        {"symbol": "AAPL", **BUY, "qty": "1", "type": "TRAILING_STOP"},
        "trailPrice",
    ),
    # amounts
    ("qty and notional", {"symbol": "AAPL", **BUY, "qty": "1", "notional": "100"}, "notional"),
    ("neither qty nor notional", {"symbol": "AAPL", **BUY}, "qty"),
    (
        "limit without its price",
        {"symbol": "AAPL", **BUY, "qty": "1", "type": "LIMIT"},
        "limitPrice",
    ),
    ("stop without its price", {"symbol": "AAPL", **BUY, "qty": "1", "type": "STOP"}, "stopPrice"),
    (
        "stop-limit without a stop",
        {"symbol": "AAPL", **BUY, "qty": "1", "type": "STOP_LIMIT", "limitPrice": "5"},
        "stopPrice",
    ),
    (
        "price on a market order",
        {"symbol": "AAPL", **BUY, "qty": "1", "limitPrice": "5"},
        "limitPrice",
    ),
    (
        "stop price on a limit order",
        {"symbol": "AAPL", **BUY, "qty": "1", "type": "LIMIT", "limitPrice": "5", "stopPrice": "4"},
        "stopPrice",
    ),
    (
        "dollar amount on a limit order",
        {"symbol": "AAPL", **BUY, "notional": "50", "type": "LIMIT", "limitPrice": "5"},
        "notional",
    ),
    ("fraction, gtc", {"symbol": "AAPL", **BUY, "qty": "0.5", "timeInForce": "GTC"}, "qty"),
    (
        "dollar amount, gtc",
        {"symbol": "AAPL", **BUY, "notional": "50", "timeInForce": "GTC"},
        "notional",
    ),
    ("crypto, day", {"symbol": "BTC/USD", **BUY, "qty": "0.01"}, "timeInForce"),
    (
        "crypto stop order",
        {
            "symbol": "BTC/USD",
            **BUY,
            "qty": "1",
            "type": "STOP",
            "stopPrice": "5",
            "timeInForce": "GTC",
        },
        "type",
    ),
    # decimal classes
    ("NaN", {"symbol": "AAPL", **BUY, "qty": "NaN"}, "qty"),
    ("Infinity", {"symbol": "AAPL", **BUY, "qty": "Infinity"}, "qty"),
    ("negative", {"symbol": "AAPL", **BUY, "qty": "-1"}, "qty"),
    ("zero", {"symbol": "AAPL", **BUY, "notional": "0"}, "notional"),
    ("exponent trick", {"symbol": "AAPL", **BUY, "qty": "1E-150000000"}, "qty"),
    ("huge exponent", {"symbol": "AAPL", **BUY, "qty": "1E+30"}, "qty"),
    ("30 digits", {"symbol": "AAPL", **BUY, "qty": "123456789012345678901234567890"}, "qty"),
    ("too many places", {"symbol": "AAPL", **BUY, "qty": "1.0000000001"}, "qty"),
    (
        "price with too many places",
        {"symbol": "AAPL", **BUY, "qty": "1", "type": "LIMIT", "limitPrice": "1.0000000001"},
        "limitPrice",
    ),
]
IDS = [name for name, _, _ in ROWS]
_ARGUMENT = {graphql: argument for argument, graphql in INPUT_FIELDS.items()}
_ENUMS = {"side", "type", "timeInForce"}


def as_arguments(order: dict[str, Any]) -> dict[str, Any]:
    """The row as the chat tool (and the validator) take it: snake_case, lower-case enums."""
    return {_ARGUMENT[k]: v.lower() if k in _ENUMS else v for k, v in order.items()}


@pytest.mark.parametrize(("name", "order", "field"), ROWS, ids=IDS)
def test_ord05_the_validator_names_the_input_field(
    name: str, order: dict[str, Any], field: str | None
) -> None:
    """ORD-05: `validate_intent` accepts the valid classes and names the field of the rest."""
    if field is None:
        intent = validate_intent(**as_arguments(order))
        assert intent.symbol == order["symbol"].strip().upper()
        return
    with pytest.raises(BadUserInput) as refused:
        validate_intent(**as_arguments(order))
    assert refused.value.extensions["field"] == field, refused.value.message
    assert len(refused.value.message) < 120


@pytest.mark.parametrize(("name", "order", "field"), ROWS, ids=IDS)
async def test_ord05_the_chat_tool_gives_the_same_verdict(
    name: str, order: dict[str, Any], field: str | None
) -> None:
    """ORD-05/TRADE-01: the propose_order tool refuses exactly what the ticket refuses, naming
    the same field (as its own argument), and nothing refused reaches the account."""
    actions = RecordingActions()
    call = await build_tools(actions).execute("propose_order", as_arguments(order))
    if field is None:
        assert call.ok, call.result
        [(_, given)] = actions.calls
        assert given["symbol"] == order["symbol"].strip().upper()
        return
    assert not call.ok
    assert call.result["error"]["code"] == "BAD_USER_INPUT"
    assert call.result["error"]["field"] == _ARGUMENT[field], call.result
    assert actions.calls == []


async def test_ord05_an_impossible_chat_number_gets_a_clear_answer() -> None:
    """ORD-05: the interpreter's numbers meet the same bounded parser; nothing is proposed."""
    actions = RecordingActions()
    turn = await ChatEngine(Interpreter()).run_turn(
        "buy 99999999999999999999999999999 AAPL", [], AccountContext("Main", "PAPER"), actions
    )
    assert actions.calls == []
    assert "at most 1,000,000,000" in turn.text
    assert "Nothing was proposed" in turn.text


def test_ord05_the_tool_schema_is_made_from_the_vocabulary() -> None:
    """ORD-05: the chat's ONE order tool has the vocabulary's enums, order class and legs."""
    [tool] = [t for t in build_tools(RecordingActions()) if t.name == "propose_order"]
    properties = tool.schema["properties"]
    assert properties["side"]["enum"] == [s.value for s in Side]
    assert properties["type"]["enum"] == [t.value for t in PLACEABLE_TYPES]
    assert properties["time_in_force"]["enum"] == [t.value for t in TimeInForce]
    assert properties["qty"]["maximum"] == 1_000_000_000
    assert properties["order_class"]["enum"] == ["simple", "bracket", "oco", "oto"]
    legs = {"take_profit_limit_price", "stop_loss_stop_price", "stop_loss_limit_price"}
    assert legs | {"trail_price", "trail_percent"} <= set(properties)


@pytest.fixture(scope="module")
def orders_server(
    pg_cluster: Cluster, sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from serve_shared_trading(pg_cluster, sandbox, tmp_path_factory.mktemp("orders"))


@pytest.fixture(scope="module")
def trader(orders_server: RunningServer, sandbox: SandboxHandle, known_secrets: set) -> Trader:
    trader = unique_traders(orders_server, sandbox, known_secrets)("orders@example.com")
    trader.add_account("Main", keys=trader.mint("paper", cash="1000000"))
    return trader


def refusal(result: dict[str, Any]) -> tuple[str, str | None, str]:
    """(code, field, message) of the first error; a variable's scalar error names the field
    in its path ("... at .qty: ..."), not in extensions."""
    [error] = result["errors"]
    extensions = error.get("extensions", {})
    return extensions.get("code"), extensions.get("field"), error["message"]


@pytest.mark.parametrize(("name", "order", "field"), ROWS, ids=IDS)
def test_ord05_place_order_gives_the_same_verdict(
    trader: Trader,
    sandbox: SandboxHandle,
    name: str,
    order: dict[str, Any],
    field: str | None,
) -> None:
    """ORD-05/TRADE-02: placeOrder over GraphQL refuses the same rows with BAD_USER_INPUT on
    the same field; the Decimal scalar bounds every amount before a resolver runs, in a
    short answer (no expanded exponent)."""
    # the rows' prices sit near this one: other tests of the session move the price
    sandbox.set_price("AAPL", "190.00")
    result = trader.call(PLACE_ORDER, {"input": order})
    assert len(str(result)) < 1000
    if field is None:
        if "errors" in result:
            code, at, message = refusal(result)
            assert (code, at) == ("BAD_USER_INPUT", "symbol") and "not a known symbol" in message
        else:
            assert result["data"]["placeOrder"]["symbol"] == order["symbol"].strip().upper()
        return
    code, at, message = refusal(result)
    assert code == "BAD_USER_INPUT", result
    assert at == field or (at is None and f"at .{field}:" in message), result


def test_ord05_list_limits_are_one_bound(trader: Trader) -> None:
    """ORD-05: `limit` of list queries is 1..500, the same rule for orders and chat history."""
    for query in (
        "query($n: Int!) { orders(limit: $n) { id } }",
        "query($n: Int!) { chatHistory(limit: $n) { id } }",
    ):
        for limit in (0, 501):
            code, at, _ = refusal(trader.call(query, {"n": limit}))
            assert (code, at) == ("BAD_USER_INPUT", "limit"), (query, limit)
        assert "errors" not in trader.call(query, {"n": 500}), query
