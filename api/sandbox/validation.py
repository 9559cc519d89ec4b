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

ORDER_TYPES = {"market", "limit", "stop", "stop_limit", "trailing_stop"}
TIME_IN_FORCE = {"day", "gtc", "opg", "cls", "ioc", "fok"}
SIDES = {"buy", "sell"}
ORDER_CLASSES = {"simple", "bracket", "oco", "oto"}
CRYPTO_TYPES = {"market", "limit", "stop_limit"}
CRYPTO_TIME_IN_FORCE = {"gtc", "ioc"}
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
    order_class: str = "simple"
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    take_profit_limit_price: Decimal | None = None
    stop_loss_stop_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None


def parse_order_request(body: Any) -> OrderSubmission:
    """Turn a POST /v2/orders body into an ``OrderSubmission`` or raise Alpaca's error."""
    if not isinstance(body, dict):
        raise bad_request("request body format is invalid")
    asset = _asset(body.get("symbol"))
    side = _choice(body, "side", SIDES)
    order_type = _choice(body, "type", ORDER_TYPES)
    tif = _choice(body, "time_in_force", TIME_IN_FORCE)
    order_class = body.get("order_class") or "simple"
    if order_class not in ORDER_CLASSES:
        raise unprocessable("invalid order_class")
    qty = _decimal(body, "qty")
    notional = _decimal(body, "notional")
    limit_price = _decimal(body, "limit_price")
    stop_price = _decimal(body, "stop_price")
    trail_price = _decimal(body, "trail_price")
    trail_percent = _decimal(body, "trail_percent")
    take_profit = _leg(body, "take_profit", "limit_price")
    stop_loss = _leg(body, "stop_loss", "stop_price")
    stop_loss_limit = _leg(body, "stop_loss", "limit_price")
    _check_amount(qty, notional, order_type, tif, asset)
    if asset.crypto:
        _check_crypto(order_type, tif, order_class)
    if order_class == "oco" and order_type == "limit" and limit_price is None:
        limit_price = take_profit  # the OCO parent is its take-profit limit order
    _check_prices(order_type, limit_price, stop_price)
    _check_trail(order_type, trail_price, trail_percent, order_class)
    _check_legs(order_class, order_type, qty, take_profit, stop_loss)
    for price in (take_profit, stop_loss, stop_loss_limit):
        if price is not None and _sub_penny(price):
            raise unprocessable("sub-penny increment does not fulfill minimum pricing criteria")
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
        order_class=order_class,
        trail_price=trail_price if order_type == "trailing_stop" else None,
        trail_percent=trail_percent if order_type == "trailing_stop" else None,
        take_profit_limit_price=take_profit,
        stop_loss_stop_price=stop_loss,
        stop_loss_limit_price=stop_loss_limit if stop_loss is not None else None,
    )


@dataclass(frozen=True, slots=True)
class ReplaceSubmission:
    """A validated PATCH /v2/orders/{id} body; None leaves a field as it was."""

    qty: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail: Decimal | None = None
    time_in_force: str | None = None
    client_order_id: str | None = None


def parse_replace_request(body: Any) -> ReplaceSubmission:
    """Turn a PATCH /v2/orders/{id} body into a ``ReplaceSubmission`` or Alpaca's error."""
    if not isinstance(body, dict):
        raise bad_request("request body format is invalid")
    qty = _decimal(body, "qty")
    if qty is not None and qty != qty.to_integral_value():
        raise unprocessable("qty must be a whole number")
    tif = body.get("time_in_force")
    if tif is not None and tif not in TIME_IN_FORCE:
        raise unprocessable("invalid time_in_force")
    change = ReplaceSubmission(
        qty=qty,
        limit_price=_decimal(body, "limit_price"),
        stop_price=_decimal(body, "stop_price"),
        trail=_decimal(body, "trail"),
        time_in_force=tif,
        client_order_id=_client_order_id(body.get("client_order_id")),
    )
    for price in (change.limit_price, change.stop_price):
        if price is not None and _sub_penny(price):
            raise unprocessable("sub-penny increment does not fulfill minimum pricing criteria")
    return change


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


def _leg(body: dict[str, Any], leg: str, field: str) -> Decimal | None:
    value = body.get(leg)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise unprocessable(f"invalid {leg}")
    return _decimal(value, field)


def _check_crypto(order_type: str, tif: str, order_class: str) -> None:
    if order_type not in CRYPTO_TYPES:
        raise unprocessable("invalid order type for crypto order")
    if tif not in CRYPTO_TIME_IN_FORCE:
        raise unprocessable("invalid crypto time_in_force")
    if order_class != "simple":
        raise unprocessable("crypto orders must be simple orders")


def _check_trail(
    order_type: str, trail_price: Decimal | None, trail_percent: Decimal | None, order_class: str
) -> None:
    if order_type != "trailing_stop":
        return
    if (trail_price is None) == (trail_percent is None):
        raise unprocessable("trailing stop order requires one of trail_price or trail_percent")
    if order_class != "simple":
        raise unprocessable("trailing stop orders must be simple orders")


def _check_legs(
    order_class: str,
    order_type: str,
    qty: Decimal | None,
    take_profit: Decimal | None,
    stop_loss: Decimal | None,
) -> None:
    if order_class == "simple":
        return
    if order_class in {"bracket", "oco"} and take_profit is None:
        raise unprocessable(f"{order_class} orders require take_profit.limit_price")
    if order_class in {"bracket", "oco"} and stop_loss is None:
        raise unprocessable(f"{order_class} orders require stop_loss.stop_price")
    if order_class == "oto" and (take_profit is None) == (stop_loss is None):
        raise unprocessable("oto orders require either take_profit or stop_loss")
    if order_class == "oco" and order_type != "limit":
        raise unprocessable("oco orders must be limit orders")
    if order_class in {"bracket", "oto"} and order_type not in {"market", "limit"}:
        raise unprocessable(f"{order_class} orders must be market or limit orders")
    if qty is None or qty != qty.to_integral_value():
        raise unprocessable("fractional orders must be simple orders")


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
        if order_type != "market" or (tif != "day" and not asset.crypto):
            raise unprocessable(
                "notional orders are only supported for market orders with time_in_force day"
            )
        if notional < MIN_NOTIONAL:
            raise unprocessable("cost basis must be >= 1")
    fractional = notional is not None or (qty is not None and qty != qty.to_integral_value())
    if fractional and not asset.fractionable:
        raise unprocessable(f"asset {asset.symbol} is not fractionable")
    if fractional and tif != "day" and not asset.crypto:
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


__all__ = [
    "OrderSubmission",
    "ReplaceSubmission",
    "SandboxError",
    "parse_close_amount",
    "parse_order_request",
    "parse_replace_request",
]
