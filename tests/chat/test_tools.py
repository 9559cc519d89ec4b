"""The tool registry: schemas as data, argument validation, the one binding (TRADE-01, CHAT-01)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from api.chat import build_tools
from tests.chat.fakes import RecordingActions


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"symbol": " aapl ", "side": "Buy", "qty": "1,000"},
            {"symbol": "AAPL", "side": "buy", "type": "market", "qty": Decimal(1000)},
        ),
        (
            '{"symbol": "TSLA", "side": "sell", "qty": 2.50, "type": "LIMIT", '
            '"limit_price": 250.10}',
            {
                "symbol": "TSLA",
                "side": "sell",
                "type": "limit",
                "qty": Decimal("2.5"),
                "limit_price": Decimal("250.1"),
            },
        ),
        (
            {"symbol": "SPY", "side": "buy", "notional": "$500", "time_in_force": "DAY"},
            {"symbol": "SPY", "side": "buy", "type": "market", "notional": Decimal(500)},
        ),
        (
            {"symbol": "BTC/USD", "side": "buy", "qty": 0.01, "time_in_force": "gtc"},
            {"symbol": "BTC/USD", "side": "buy", "type": "market", "qty": Decimal("0.01")},
        ),
    ],
)
async def test_order_arguments_are_normalised_into_decimals(raw: Any, expected: dict[str, Any]):
    """CHAT-01: loose model arguments become exact, canonical ones (Decimal, never float)."""
    actions = RecordingActions()
    call = await build_tools(actions).execute("propose_order", raw)
    assert call.ok, call.result
    [(name, kwargs)] = actions.calls
    assert name == "propose_order"
    expected.setdefault("time_in_force", kwargs["time_in_force"])
    assert kwargs == expected
    assert all(not isinstance(v, float) for v in kwargs.values())


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"symbol": "AAPL", "side": "buy"}, "either a quantity or a dollar amount"),
        ({"symbol": "AAPL", "side": "buy", "qty": 1, "notional": 5}, "not both"),
        ({"symbol": "AAPL", "side": "buy", "qty": 0}, "more than zero"),
        ({"symbol": "AAPL", "side": "buy", "qty": -3}, "more than zero"),
        ({"symbol": "AAPL", "side": "buy", "qty": "NaN"}, "finite number"),
        ({"symbol": "AAPL", "side": "buy", "qty": "1e30"}, "at most 1,000,000,000"),
        ({"symbol": "AAPL", "side": "buy", "qty": True}, "number"),
        ({"symbol": "AAPL", "side": "hold", "qty": 1}, "side must be one of"),
        ({"symbol": "AAPL; DROP", "side": "buy", "qty": 1}, "ticker symbol"),
        ({"symbol": "AAPL", "side": "buy", "qty": 1, "type": "limit"}, "needs a limit price"),
        ({"symbol": "AAPL", "side": "buy", "qty": 1, "type": "stop"}, "needs a stop price"),
        ({"symbol": "AAPL", "side": "buy", "qty": 1, "limit_price": 5}, "takes no limit price"),
        ({"symbol": "AAPL", "side": "buy", "notional": 5, "type": "limit"}, "market orders"),
        ({"symbol": "SPY", "side": "buy", "notional": 5, "time_in_force": "gtc"}, "day orders"),
        ("[1, 2]", "JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
async def test_invalid_order_arguments_never_reach_the_account(raw: Any, words: str):
    """TRADE-01/02: what fails the schema is a tool error, not a call on the account."""
    actions = RecordingActions()
    call = await build_tools(actions).execute("propose_order", raw)
    assert not call.ok
    assert call.result["error"]["code"] == "BAD_USER_INPUT"
    assert words in call.result["error"]["message"]
    assert actions.calls == []


@pytest.mark.parametrize(
    "extra",
    [{"account_id": "other"}, {"accountId": "other", "user_id": "u2"}, {"account": {"id": 2}}],
)
async def test_trade01_extra_arguments_are_dropped_on_every_tool(extra: dict[str, Any]):
    """TRADE-01: any argument outside a tool's schema is dropped before the bound call."""
    actions = RecordingActions()
    registry = build_tools(actions)
    for name, args in [
        ("account_summary", {}),
        ("positions", {}),
        ("orders", {"status": "all"}),
        ("quote", {"symbol": "NVDA"}),
        ("close_position", {"symbol": "AAPL"}),
        ("cancel_order", {"all": True}),
    ]:
        call = await registry.execute(name, {**args, **extra})
        assert call.ok, call.result
        assert call.ignored_arguments == tuple(sorted(extra))
        assert not set(extra) & set(call.arguments)
    for _, kwargs in actions.calls:
        assert not set(extra) & set(kwargs)


async def test_cancel_needs_an_id_or_all():
    """CHAT-01: cancel_order takes exactly one of order_id or all=true."""
    actions = RecordingActions()
    registry = build_tools(actions)
    assert not (await registry.execute("cancel_order", {})).ok
    assert not (await registry.execute("cancel_order", {"order_id": "x1234", "all": True})).ok
    assert actions.calls == []
    call = await registry.execute(
        "cancel_order", {"order_id": "61e69015-8549-4bfd-b9c3-01e75843f47d"}
    )
    assert call.result == {"canceled": ["61e69015-8549-4bfd-b9c3-01e75843f47d"]}


async def test_service_refusals_become_tool_errors():
    """CHAT-01: an AppError from the account services is explained, not raised."""
    call = await build_tools(RecordingActions()).execute("cancel_order", {"order_id": "nope-123"})
    assert call.result["error"]["code"] == "NOT_FOUND"


async def test_results_are_json_with_decimal_strings():
    """CHAT-01: Decimals in service results are sent as strings, never floats."""
    call = await build_tools(RecordingActions()).execute(
        "propose_order", {"symbol": "AAPL", "side": "buy", "qty": 10}
    )
    assert call.result["proposal"]["estimated_cost"] == "1901.20"
    assert call.arguments["qty"] == "10"


def test_schemas_are_plain_json_schema():
    """STYLE rule 7: tools are data; each schema is a closed JSON object schema."""
    for definition in build_tools(RecordingActions()).openai_tools():
        function = definition["function"]
        assert definition["type"] == "function"
        assert function["description"]
        assert function["parameters"]["type"] == "object"
        assert set(function["parameters"]["required"]) <= set(function["parameters"]["properties"])


ORDER_ID = "61e69015-8549-4bfd-b9c3-01e75843f47d"


async def test_ord02_replace_order_takes_the_vocabulary_changes_only() -> None:
    """ORD-02, ORD-05: replace_order reads its changes with the order vocabulary's one
    validator: whole shares only, one trail, something to change; refusals name the tool's
    argument and never reach the account; an accepted change is a proposal."""
    actions = RecordingActions()
    registry = build_tools(actions)
    refused: list[tuple[dict[str, Any], str, str]] = [
        ({"order_id": ORDER_ID, "qty": "2.5"}, "qty", "whole shares"),
        ({"order_id": ORDER_ID, "trail_price": 1, "trail_percent": 2}, "trail_percent", "not both"),
        ({"order_id": ORDER_ID}, "qty", "Say what to change"),
        ({"limit_price": "185"}, "order_id", "required"),
    ]
    for raw, field, words in refused:
        call = await registry.execute("replace_order", raw)
        assert call.result["error"]["field"] == field, call.result
        assert words in call.result["error"]["message"]
    assert actions.calls == []
    call = await registry.execute(
        "replace_order", {"order_id": ORDER_ID, "limit_price": "$185.50", "time_in_force": "GTC"}
    )
    assert call.arguments == {
        "order_id": ORDER_ID,
        "limit_price": "185.5",
        "time_in_force": "gtc",
    }
    assert call.result["proposal"]["status"] == "PENDING"
    assert actions.calls == [
        ("replace_order", {"order_id": ORDER_ID, "limit_price": "185.5", "time_in_force": "gtc"})
    ]
