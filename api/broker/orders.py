"""Turning the product's ``OrderRequest`` into the JSON body Alpaca receives.

This writes the wire; it decides nothing about which orders make sense. That
is the order vocabulary's job, above this layer (api/trading/orders.py, which
builds every ``OrderRequest`` from a validated intent). alpaca-py's request
models (MarketOrderRequest and friends) build the body and keep their own
checks (qty xor notional, a limit price on a limit order); what they refuse
is BAD_USER_INPUT before an audit row or a request exists. Their numeric
fields are floats, so the body sent keeps our exact Decimal strings instead.
They are imported where they are used: importing alpaca-py's models loads
pandas, about a second that start-up does without (docs/architecture.md,
performance budget).
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from api.broker.errors import BrokerError, bad_input
from api.broker.models import OrderRequest, ReplaceRequest

if TYPE_CHECKING:
    from alpaca.trading.requests import OrderRequest as AlpacaOrderRequest


@cache
def _requests() -> dict[str, type[AlpacaOrderRequest]]:
    """alpaca-py's request model of each order type."""
    from alpaca.trading.requests import (
        LimitOrderRequest,
        MarketOrderRequest,
        StopLimitOrderRequest,
        StopOrderRequest,
        TrailingStopOrderRequest,
    )

    return {
        "market": MarketOrderRequest,
        "limit": LimitOrderRequest,
        "stop": StopOrderRequest,
        "stop_limit": StopLimitOrderRequest,
        "trailing_stop": TrailingStopOrderRequest,
    }


# Text that goes into URL paths, query strings and logs: printable ASCII, no spaces,
# at most Alpaca's 128 characters for a client order id.
_WIRE_TEXT = re.compile(r"^[\x21-\x7e]{1,128}$")
_AMOUNTS = ("qty", "notional", "limit_price", "stop_price", "trail_price", "trail_percent")
# Leg prices: (field of OrderRequest, leg object in the body, its field there).
_LEGS = (
    ("take_profit_limit_price", "take_profit", "limit_price"),
    ("stop_loss_stop_price", "stop_loss", "stop_price"),
    ("stop_loss_limit_price", "stop_loss", "limit_price"),
)


def symbol(raw: str) -> str:
    """A symbol as it is sent (upper case); which symbols exist is decided above."""
    value = raw.strip().upper() if isinstance(raw, str) else ""
    if not _WIRE_TEXT.match(value):
        raise bad_input("the symbol cannot be sent to the broker")
    return value


def client_order_id(raw: str) -> str:
    if not isinstance(raw, str) or not _WIRE_TEXT.match(raw):
        raise bad_input("client order id must be 1 to 128 printable characters without spaces")
    return raw


def order_body(request: OrderRequest, coid: str) -> dict[str, Any]:
    """The POST /v2/orders body; BAD_USER_INPUT for a request the wire cannot carry."""
    from alpaca.trading.enums import OrderClass, OrderSide, TimeInForce

    ticker = symbol(request.symbol)
    model = _requests().get(request.type)
    if model is None:
        raise bad_input(f"order type {request.type!r} cannot be sent")
    amounts = {name: getattr(request, name) for name in _AMOUNTS}
    legs = {name: getattr(request, name) for name, _, _ in _LEGS}
    # A NaN or an infinity has no decimal string to send.
    if any(v is not None and not v.is_finite() for v in (*amounts.values(), *legs.values())):
        raise bad_input("amounts and prices must be finite numbers")
    # alpaca-py's fields are floats; the body gets the exact strings back below.
    floats: dict[str, Any] = {k: float(v) for k, v in amounts.items() if v is not None}
    failure: BrokerError | None = None
    try:
        floats.update(_leg_requests(request))
        validated = model(
            symbol=ticker,
            side=OrderSide(request.side),
            time_in_force=TimeInForce(request.time_in_force),
            order_class=OrderClass(request.order_class),
            extended_hours=request.extended_hours or None,
            client_order_id=coid,
            **floats,
        )
    except ValidationError as error:
        failure = bad_input(_first_problem(error))
    except ValueError:
        failure = bad_input("side, time in force or order class cannot be sent")
    if failure is not None:
        raise failure
    # Plain strings, not alpaca-py's str enums: the same body is stored as the audit's jsonb.
    body = {
        k: v.value if isinstance(v, Enum) else v for k, v in validated.to_request_fields().items()
    }
    for name, value in amounts.items():
        if value is not None and name in body:
            body[name] = format(value, "f")
    for name, leg, key in _LEGS:
        value = legs[name]
        if value is not None and isinstance(body.get(leg), dict):
            body[leg][key] = format(value, "f")
    return body


def _leg_requests(request: OrderRequest) -> dict[str, Any]:
    """alpaca-py's take_profit and stop_loss objects for the legs that are set."""
    from alpaca.trading.requests import StopLossRequest, TakeProfitRequest

    legs: dict[str, Any] = {}
    if request.take_profit_limit_price is not None:
        legs["take_profit"] = TakeProfitRequest(limit_price=float(request.take_profit_limit_price))
    if request.stop_loss_stop_price is not None:
        limit = request.stop_loss_limit_price
        legs["stop_loss"] = StopLossRequest(
            stop_price=float(request.stop_loss_stop_price),
            limit_price=float(limit) if limit is not None else None,
        )
    return legs


def replace_body(change: ReplaceRequest) -> dict[str, Any]:
    """The PATCH /v2/orders/{id} body; only the fields that change, as exact strings."""
    from alpaca.trading.enums import TimeInForce
    from alpaca.trading.requests import ReplaceOrderRequest

    amounts = {
        name: getattr(change, name) for name in ("qty", "limit_price", "stop_price", "trail")
    }
    if any(v is not None and not v.is_finite() for v in amounts.values()):
        raise bad_input("amounts and prices must be finite numbers")
    if change.qty is not None and change.qty != change.qty.to_integral_value():
        raise bad_input("a replaced order takes whole shares only")
    failure: BrokerError | None = None
    try:
        ReplaceOrderRequest(
            qty=int(change.qty) if change.qty is not None else None,
            time_in_force=TimeInForce(change.time_in_force) if change.time_in_force else None,
            limit_price=_float(change.limit_price),
            stop_price=_float(change.stop_price),
            trail=_float(change.trail),
        )
    except ValidationError as error:
        failure = bad_input(_first_problem(error))
    except ValueError:
        failure = bad_input("time in force cannot be sent")
    if failure is not None:
        raise failure
    body: dict[str, Any] = {k: format(v, "f") for k, v in amounts.items() if v is not None}
    if change.time_in_force is not None:
        body["time_in_force"] = change.time_in_force
    if change.client_order_id is not None:
        body["client_order_id"] = client_order_id(change.client_order_id)
    return body


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    if not problems:
        return "the order is not valid"
    message = str(problems[0].get("msg", "the order is not valid"))
    return message.removeprefix("Value error, ")
