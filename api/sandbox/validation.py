"""Order requests checked the way Alpaca checks them, before the engine sees them.

alpaca-py validates little on the client side and sends numbers as JSON floats,
so the sandbox must refuse malformed orders itself with Alpaca's 422 answers;
otherwise code tested against the sandbox would meet those refusals for the
first time in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from api.sandbox.assets import Asset, find_asset
from api.sandbox.errors import SandboxError, bad_request, unprocessable

ORDER_TYPES = {"market", "limit", "stop", "stop_limit"}
TIME_IN_FORCE = {"day", "gtc", "opg", "cls", "ioc", "fok"}
SIDES = {"buy", "sell"}
MAX_CLIENT_ORDER_ID = 128
MIN_NOTIONAL = Decimal("1")


@dataclass(frozen=True, slots=True)
class OrderSubmission:
    """A validated order request; exactly one of ``qty`` and ``notional`` is set."""

    asset: Asset
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None
    extended_hours: bool = False
    position_intent: str | None = None


def parse_order_request(body: Any) -> OrderSubmission:
    """Turn a POST /v2/orders body into an ``OrderSubmission`` or raise Alpaca's error."""
    if not isinstance(body, dict):
        raise bad_request("request body format is invalid")
    asset = _asset(body.get("symbol"))
    side = _choice(body, "side", SIDES)
    order_type = _choice(body, "type", ORDER_TYPES | {"trailing_stop"})
    if order_type == "trailing_stop":
        raise unprocessable("trailing_stop orders are not supported by the sandbox")
    tif = _choice(body, "time_in_force", TIME_IN_FORCE)
    _simple_class_only(body.get("order_class"))
    qty = _decimal(body, "qty")
    notional = _decimal(body, "notional")
    limit_price = _decimal(body, "limit_price")
    stop_price = _decimal(body, "stop_price")
    _check_amount(qty, notional, order_type, tif, asset)
    _check_prices(order_type, limit_price, stop_price)
    extended = bool(body.get("extended_hours") or False)
    if extended and (order_type != "limit" or tif != "day"):
        raise unprocessable("extended hours order must be DAY limit orders")
    return OrderSubmission(
        asset=asset,
        side=side,
        type=order_type,
        time_in_force=tif,
        qty=qty,
        notional=notional,
        limit_price=limit_price if order_type in {"limit", "stop_limit"} else None,
        stop_price=stop_price if order_type in {"stop", "stop_limit"} else None,
        client_order_id=_client_order_id(body.get("client_order_id")),
        extended_hours=extended,
        position_intent=_optional_str(body.get("position_intent")),
    )


def _asset(symbol: Any) -> Asset:
    if not isinstance(symbol, str) or not symbol:
        raise unprocessable("symbol is required")
    asset = find_asset(symbol)
    if asset is None:
        raise unprocessable(f'asset "{symbol}" not found')
    if not asset.tradable:
        raise unprocessable(f"asset {asset.symbol} is not tradable")
    return asset


def _choice(body: dict[str, Any], field: str, allowed: set[str]) -> str:
    value = body.get(field)
    if value is None or value == "":
        raise unprocessable(f"{field} is required")
    if not isinstance(value, str) or value not in allowed:
        raise unprocessable(f"invalid {field}")
    return value


def _simple_class_only(order_class: Any) -> None:
    # Bracket/OCO/OTO and option legs need a second matching engine; refusing them
    # loudly is better than silently trading a simple order instead.
    if order_class not in (None, "", "simple"):
        raise unprocessable(f"order_class {order_class} is not supported by the sandbox")


def _decimal(body: dict[str, Any], field: str) -> Decimal | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise unprocessable(f"invalid {field}")
    try:
        # via str(): the JSON float 0.1 must become Decimal("0.1"), not its binary expansion.
        number = Decimal(str(value))
    except InvalidOperation:
        raise unprocessable(f"invalid {field}") from None
    if not number.is_finite() or number <= 0:
        raise unprocessable(f"{field} must be > 0")
    return number


def _check_amount(
    qty: Decimal | None, notional: Decimal | None, order_type: str, tif: str, asset: Asset
) -> None:
    if qty is None and notional is None:
        raise unprocessable("qty or notional is required")
    if qty is not None and notional is not None:
        raise unprocessable("only one of qty or notional can be specified")
    if notional is not None:
        if order_type != "market" or tif != "day":
            raise unprocessable(
                "notional orders are only supported for market orders with time_in_force day"
            )
        if notional < MIN_NOTIONAL:
            raise unprocessable("cost basis must be >= 1")
    fractional = notional is not None or (qty is not None and qty != qty.to_integral_value())
    if fractional and not asset.fractionable:
        raise unprocessable(f"asset {asset.symbol} is not fractionable")
    if fractional and tif != "day":
        raise unprocessable("fractional orders must be DAY orders")


def _check_prices(order_type: str, limit_price: Decimal | None, stop_price: Decimal | None) -> None:
    if order_type in {"limit", "stop_limit"} and limit_price is None:
        raise unprocessable("limit_price is required")
    if order_type in {"stop", "stop_limit"} and stop_price is None:
        raise unprocessable("stop_price is required")
    for price in (limit_price, stop_price):
        if price is not None and _sub_penny(price):
            raise unprocessable("sub-penny increment does not fulfill minimum pricing criteria")


def _sub_penny(price: Decimal) -> bool:
    # Alpaca allows 4 decimals below $1 and 2 decimals from $1 up.
    places = 4 if price < 1 else 2
    return price != price.quantize(Decimal(1).scaleb(-places))


def _client_order_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise unprocessable("invalid client_order_id")
    if len(value) > MAX_CLIENT_ORDER_ID:
        raise unprocessable("client_order_id must be no more than 128 characters")
    return value


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_close_amount(
    qty: str | None, percentage: str | None
) -> tuple[Decimal | None, Decimal | None]:
    """Validate DELETE /v2/positions/{symbol} query parameters."""
    if qty and percentage:
        raise unprocessable("only one of qty or percentage can be specified")
    try:
        q = Decimal(qty) if qty else None
        p = Decimal(percentage) if percentage else None
    except InvalidOperation:
        raise unprocessable("invalid qty or percentage") from None
    if q is not None and (not q.is_finite() or q <= 0):
        raise unprocessable("qty must be > 0")
    if p is not None and (not p.is_finite() or p <= 0 or p > 100):
        raise unprocessable("percentage must be between 0 and 100")
    return q, p


__all__ = ["OrderSubmission", "SandboxError", "parse_close_amount", "parse_order_request"]
