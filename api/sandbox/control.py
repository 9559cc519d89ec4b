"""Control endpoints under ``/_sandbox``: what a test or a demo does to the broker.

Mint accounts and keys, revoke keys, inject faults, pin prices, open or close
the market, force order outcomes and read call statistics. They need no
authentication because the sandbox is a local test double: bind it to
127.0.0.1 only. Minted secrets are returned once and never logged.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.sandbox.activities import pay_dividend
from api.sandbox.assets import CATALOG
from api.sandbox.clock import market_today
from api.sandbox.errors import SandboxError, bad_request, not_found
from api.sandbox.faults import parse_faults
from api.sandbox.runtime import Sandbox, sandbox_of
from api.sandbox.wire import account_json, num, order_json


def control_routes() -> list[Route]:
    return [
        Route("/accounts", _safe(mint_account), methods=["POST"]),
        Route("/accounts/{account_number}", _safe(show_account), methods=["GET"]),
        Route("/accounts/{account_number}/revoke", _safe(revoke), methods=["POST"]),
        Route("/accounts/{account_number}/dividends", _safe(dividend), methods=["POST"]),
        Route("/faults", _safe(faults), methods=["GET", "POST", "DELETE"]),
        Route("/prices", _safe(prices), methods=["GET", "POST"]),
        Route("/clock", _safe(set_clock), methods=["POST"]),
        Route("/orders/{order_id}/{outcome}", _safe(force_outcome), methods=["POST"]),
        Route("/stats", _safe(stats), methods=["GET"]),
    ]


def _safe(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request, sandbox_of(request))
            return response
        except SandboxError as error:
            return error.response()

    return endpoint


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("body must be JSON") from None
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object")
    return body


def _decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise bad_request(f"{name} must be a number") from None
    if not number.is_finite():
        raise bad_request(f"{name} must be a number")
    return number


async def mint_account(request: Request, sandbox: Sandbox) -> Response:
    body = await _body(request)
    positions = []
    for item in body.get("positions") or []:
        if not isinstance(item, dict) or "symbol" not in item or "qty" not in item:
            raise bad_request("each position needs symbol and qty")
        symbol = str(item["symbol"]).upper()
        if not sandbox.prices.knows(symbol):
            raise bad_request(f"unknown symbol {symbol}")
        default_price = sandbox.prices.price(symbol)
        positions.append(
            (
                symbol,
                _decimal(item["qty"], "qty"),
                _decimal(item.get("avg_entry_price", default_price), "avg_entry_price"),
            )
        )
    minted = sandbox.broker.accounts.mint(
        environment=str(body.get("environment", "paper")),
        cash=_decimal(body.get("cash", "100000"), "cash"),
        positions=positions,
        shorting_enabled=bool(body.get("shorting_enabled", False)),
    )
    return JSONResponse(minted.as_dict(), status_code=201)


async def show_account(request: Request, sandbox: Sandbox) -> Response:
    account = sandbox.broker.accounts.by_number.get(request.path_params["account_number"])
    if account is None:
        raise not_found("account not found")
    return JSONResponse(account_json(sandbox.broker.valuation, account))


async def revoke(request: Request, sandbox: Sandbox) -> Response:
    number = request.path_params["account_number"]
    revoked = sandbox.broker.accounts.revoke(number)
    return JSONResponse({"account_number": number, "revoked_keys": revoked})


async def faults(request: Request, sandbox: Sandbox) -> Response:
    if request.method == "DELETE":
        sandbox.faults.clear()
    elif request.method == "POST":
        new = parse_faults(await _body(request))
        sandbox.faults.replace(new)
        if new.drop_streams:
            # A one-off action, not a standing condition: close what is open now.
            dropped = sandbox.hub.drop_all()
            new.drop_streams = False
            return JSONResponse({"faults": new.public(), "dropped_streams": dropped})
    return JSONResponse({"faults": sandbox.faults.faults.public()})


async def prices(request: Request, sandbox: Sandbox) -> Response:
    book = sandbox.prices
    if request.method == "POST":
        body = await _body(request)
        symbol = str(body.get("symbol", "")).upper()
        if not book.knows(symbol):
            raise bad_request(f"unknown symbol {symbol}")
        price = _decimal(body.get("price"), "price")
        if price <= 0:
            raise bad_request("price must be positive")
        book.set_price(symbol, price)
        sandbox.broker.sweep([symbol])
        quote = book.quote(symbol)
        return JSONResponse(
            {
                "symbol": symbol,
                "price": num(quote.price),
                "bid": num(quote.bid),
                "ask": num(quote.ask),
            }
        )
    return JSONResponse({symbol: num(book.price(symbol)) for symbol in sorted(CATALOG)})


async def dividend(request: Request, sandbox: Sandbox) -> Response:
    """Pay a dividend on a held position now (HIST-02), instead of waiting for an ex-date."""
    account = sandbox.broker.accounts.by_number.get(request.path_params["account_number"])
    if account is None:
        raise not_found("account not found")
    body = await _body(request)
    per_share = _decimal(body.get("per_share", "0.25"), "per_share")
    if per_share <= 0:
        raise bad_request("per_share must be positive")
    paid = pay_dividend(account, str(body.get("symbol", "")).upper(), per_share)
    return JSONResponse({"id": paid.id, "net_amount": num(paid.net_amount)})


async def set_clock(request: Request, sandbox: Sandbox) -> Response:
    """Open or close the market; ``half_day`` makes today close early (HIST-04) or not."""
    body = await _body(request)
    clock = sandbox.broker.clock
    if "half_day" in body:
        if not isinstance(body["half_day"], bool):
            raise bad_request("half_day must be true or false")
        today = market_today()
        if body["half_day"]:
            clock.half_days.add(today)
        else:
            clock.half_days.discard(today)
    if "is_open" in body or "half_day" not in body:
        if not isinstance(body.get("is_open"), bool):
            raise bad_request("is_open must be true or false")
        sandbox.broker.set_market_open(body["is_open"])
    return JSONResponse({"is_open": clock.is_open, "half_day": clock.closes_early(market_today())})


async def force_outcome(request: Request, sandbox: Sandbox) -> Response:
    """Fill (fully or partly), expire or reject an open order regardless of the price."""
    broker = sandbox.broker
    account, order = broker.find_order(request.path_params["order_id"])
    outcome = request.path_params["outcome"]
    if not order.is_open:
        raise bad_request(f"order is {order.status}")
    if outcome == "fill":
        body = await _body(request)
        remaining = (order.terms.qty or Decimal(0)) - order.filled_qty
        qty = _decimal(body["qty"], "qty") if "qty" in body else remaining
        price = (
            _decimal(body["price"], "price")
            if "price" in body
            else broker.prices.price(order.symbol)
        )
        if order.terms.qty is None or not 0 < qty <= remaining:
            raise bad_request(
                "qty must be positive and at most the unfilled quantity of a qty order"
            )
        broker.orders.fill(account, order, qty, price)
    elif outcome == "expire":
        broker.orders.expire(account, order)
    elif outcome == "reject":
        broker.orders.reject(account, order)
    else:
        raise not_found("unknown outcome: use fill, expire or reject")
    return JSONResponse(order_json(order))


async def stats(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse(sandbox.stats())
