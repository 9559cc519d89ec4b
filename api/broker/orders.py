"""Turning the product's ``OrderRequest`` into the JSON body Alpaca receives.

alpaca-py's request models (MarketOrderRequest and friends) check the
combinations Alpaca checks (qty xor notional, limit price for limit orders,
stop price for stops) so an impossible order is refused here, as
BAD_USER_INPUT, before an audit row or a request exists. Their numeric fields
are floats, so the body sent keeps our exact Decimal strings instead.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import Enum
from typing import Any

from alpaca.trading.enums import OrderSide, TimeInForce
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
# Equities (BRK.B) and crypto pairs (BTC/USD); the symbol ends up in URL paths.
_SYMBOL = re.compile(r"^[A-Z][A-Z0-9.]{0,15}(?:/[A-Z]{2,6})?$")
# Alpaca allows up to 128 characters; printable ASCII keeps it safe in query strings and logs.
_CLIENT_ORDER_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_AMOUNTS = ("qty", "notional", "limit_price", "stop_price")


def symbol(raw: str) -> str:
    value = raw.strip().upper() if isinstance(raw, str) else ""
    if not _SYMBOL.match(value):
        raise bad_input(f"{raw!r} is not a valid symbol")
    return value


def client_order_id(raw: str) -> str:
    if not isinstance(raw, str) or not _CLIENT_ORDER_ID.match(raw):
        raise bad_input("client order id must be 1 to 128 printable characters without spaces")
    return raw


def order_body(request: OrderRequest, coid: str) -> dict[str, Any]:
    """The POST /v2/orders body; raises BAD_USER_INPUT for an order Alpaca would refuse."""
    ticker = symbol(request.symbol)
    model = _REQUESTS.get(request.type)
    if model is None:
        raise bad_input(f"unknown order type {request.type!r}")
    amounts = {name: getattr(request, name) for name in _AMOUNTS}
    for name, value in amounts.items():
        if value is None:
            continue
        if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
            raise bad_input(f"{name.replace('_', ' ')} must be a positive number")
    failure: BrokerError | None = None
    try:
        validated = model(
            symbol=ticker,
            side=OrderSide(request.side),
            time_in_force=TimeInForce(request.time_in_force),
            extended_hours=request.extended_hours or None,
            client_order_id=coid,
            **{k: float(v) for k, v in amounts.items() if v is not None},
        )
    except ValidationError as error:
        failure = bad_input(_first_problem(error))
    except ValueError:
        failure = bad_input("side or time in force is not valid")
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
