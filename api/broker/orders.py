"""Turning the product's ``OrderRequest`` into the JSON body Alpaca receives.

This writes the wire; it decides nothing about which orders make sense. That
is the order vocabulary's job, above this layer (api/trading/orders.py, which
builds every ``OrderRequest`` from a validated intent). alpaca-py's request
models (MarketOrderRequest and friends) build the body and keep their own
checks (qty xor notional, a limit price on a limit order); what they refuse
is BAD_USER_INPUT before an audit row or a request exists. Their numeric
fields are floats, so the body sent keeps our exact Decimal strings instead.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from alpaca.trading.enums import OrderClass, OrderSide, TimeInForce
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)
from alpaca.trading.requests import OrderRequest as AlpacaOrderRequest
from pydantic import ValidationError

from api.broker.errors import BrokerError, bad_input
from api.broker.models import OrderRequest

_REQUESTS: dict[str, type[AlpacaOrderRequest]] = {
    "market": MarketOrderRequest,
    "limit": LimitOrderRequest,
    "stop": StopOrderRequest,
    "stop_limit": StopLimitOrderRequest,
}
# Text that goes into URL paths, query strings and logs: printable ASCII, no spaces,
# at most Alpaca's 128 characters for a client order id.
_WIRE_TEXT = re.compile(r"^[\x21-\x7e]{1,128}$")
_AMOUNTS = ("qty", "notional", "limit_price", "stop_price")


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
    ticker = symbol(request.symbol)
    model = _REQUESTS.get(request.type)
    if model is None:
        raise bad_input(f"order type {request.type!r} cannot be sent")
    amounts = {name: getattr(request, name) for name in _AMOUNTS}
    # A NaN or an infinity has no decimal string to send.
    if any(v is not None and not v.is_finite() for v in amounts.values()):
        raise bad_input("amounts and prices must be finite numbers")
    # alpaca-py's fields are floats; the body gets the exact strings back below.
    floats: dict[str, Any] = {k: float(v) for k, v in amounts.items() if v is not None}
    failure: BrokerError | None = None
    try:
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
    return body


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    if not problems:
        return "the order is not valid"
    message = str(problems[0].get("msg", "the order is not valid"))
    return message.removeprefix("Value error, ")
