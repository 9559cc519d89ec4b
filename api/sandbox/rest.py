"""Alpaca Trading API v2 routes, mounted once under ``/paper`` and once under ``/live``.

Every call passes one gate (``guarded``): injected latency, the per-key rate
limit, injected errors, then authentication for that environment only (a paper
key is unknown to ``/live`` and vice versa). Every answer carries Alpaca's
``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` headers; a 429 for an
exhausted budget, like Alpaca's, says when to come back only through ``-Reset``.
Handlers receive the authenticated account and can touch nothing else, which is
what keeps accounts from ever seeing each other.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.sandbox.assets import CATALOG, find_asset
from api.sandbox.configurations import patched
from api.sandbox.errors import SandboxError, bad_request, not_found, unauthorized, unprocessable
from api.sandbox.faults import rate_limited, retry_after_headers
from api.sandbox.orders import OrderFilter
from api.sandbox.records import SandboxAccount
from api.sandbox.runtime import Sandbox, sandbox_of
from api.sandbox.validation import (
    parse_close_amount,
    parse_order_request,
    parse_replace_request,
)
from api.sandbox.wire import (
    account_json,
    asset_json,
    clock_json,
    configuration_json,
    order_json,
    position_json,
)

Handler = Callable[[Request, Sandbox, SandboxAccount], Awaitable[Response]]
_MAX_ORDER_LIMIT = 500


def guarded(
    handlers: dict[str, Handler], environment: str | None
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap per-method handlers in the sandbox's gate; ``environment`` None accepts either."""

    async def endpoint(request: Request) -> Response:
        sandbox = sandbox_of(request)
        # Only the key id is read for bookkeeping; headers are never logged.
        key_id = request.headers.get("apca-api-key-id")
        caller = sandbox.broker.accounts.account_for_key(key_id)
        if caller is not None:
            caller.rest_calls += 1
        delay = sandbox.faults.latency_seconds(key_id)
        if delay:
            await asyncio.sleep(delay)
        verdict = sandbox.faults.rate(
            key_id or f"addr:{request.client.host if request.client else '?'}"
        )
        headers = verdict.headers()
        if not verdict.allowed:
            return rate_limited().response(headers)
        injected = sandbox.faults.injected_error(key_id)
        if injected is not None:
            extra = retry_after_headers() if injected.status == 429 else {}
            return injected.response({**headers, **extra})
        account = sandbox.broker.accounts.authenticate(
            key_id, request.headers.get("apca-api-secret-key"), environment
        )
        if account is None:
            return unauthorized().response(headers)
        try:
            response = await handlers[request.method](request, sandbox, account)
        except SandboxError as error:
            response = error.response()
        response.headers.update(headers)
        return response

    return endpoint


def trading_routes(environment: str) -> list[Route]:
    def route(path: str, handlers: dict[str, Handler]) -> Route:
        return Route(path, guarded(handlers, environment), methods=list(handlers))

    return [
        route("/v2/account", {"GET": get_account}),
        route(
            "/v2/account/configurations",
            {"GET": get_configurations, "PATCH": patch_configurations},
        ),
        route("/v2/positions", {"GET": list_positions, "DELETE": close_all_positions}),
        route("/v2/positions/{symbol}", {"GET": get_position, "DELETE": close_position}),
        route(
            "/v2/orders", {"GET": list_orders, "POST": create_order, "DELETE": cancel_all_orders}
        ),
        route("/v2/orders:by_client_order_id", {"GET": get_order_by_client_id}),
        route(
            "/v2/orders/{order_id}",
            {"GET": get_order, "PATCH": replace_order, "DELETE": cancel_order},
        ),
        route("/v2/assets", {"GET": list_assets}),
        route("/v2/assets/{symbol}", {"GET": get_asset}),
        route("/v2/clock", {"GET": get_clock}),
    ]


async def json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("request body format is invalid") from None


# ------------------------------------------------------------------- account


async def get_account(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    return JSONResponse(account_json(sandbox.broker.valuation, account))


async def get_configurations(
    request: Request, sandbox: Sandbox, account: SandboxAccount
) -> Response:
    return JSONResponse(configuration_json(account.configuration))


async def patch_configurations(
    request: Request, sandbox: Sandbox, account: SandboxAccount
) -> Response:
    account.configuration = patched(account.configuration, await json_body(request))
    return JSONResponse(configuration_json(account.configuration))


# ------------------------------------------------------------------- positions


async def list_positions(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    positions = sorted(account.positions.values(), key=lambda p: p.asset.symbol)
    valuation = sandbox.broker.valuation
    return JSONResponse([position_json(valuation, account, p) for p in positions])


async def get_position(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    position = sandbox.broker.positions.get(account, request.path_params["symbol"])
    return JSONResponse(position_json(sandbox.broker.valuation, account, position))


async def close_position(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    qty, percentage = parse_close_amount(
        request.query_params.get("qty"), request.query_params.get("percentage")
    )
    order = sandbox.broker.positions.close(account, request.path_params["symbol"], qty, percentage)
    return JSONResponse(order_json(order))


async def close_all_positions(
    request: Request, sandbox: Sandbox, account: SandboxAccount
) -> Response:
    cancel_orders = request.query_params.get("cancel_orders", "").lower() == "true"
    results = []
    for symbol, outcome in sandbox.broker.positions.close_all(account, cancel_orders):
        if isinstance(outcome, SandboxError):
            results.append(
                {
                    "symbol": symbol,
                    "status": outcome.status,
                    "body": {**outcome.body(), "symbol": symbol},
                }
            )
        else:
            results.append(
                {
                    "symbol": symbol,
                    "status": 200,
                    "order_id": str(outcome.id),
                    "body": order_json(outcome),
                }
            )
    return JSONResponse(results, status_code=207)


# ------------------------------------------------------------------- orders


async def create_order(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    order = sandbox.broker.orders.submit(account, parse_order_request(await json_body(request)))
    account.orders_received += 1
    hold = sandbox.faults.take_accept_then_timeout(request.headers.get("apca-api-key-id"))
    if hold:
        # The order is already stored and live; only the answer is late, as when a real
        # broker accepts an order and the client's request then times out.
        await asyncio.sleep(hold)
    return JSONResponse(order_json(order))


async def list_orders(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    nested = request.query_params.get("nested", "").lower() == "true"
    orders = sandbox.broker.orders.matching(account, _order_filter(request), nested)
    return JSONResponse([order_json(o) for o in orders])


async def replace_order(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    change = parse_replace_request(await json_body(request))
    order = sandbox.broker.orders.replace(account, request.path_params["order_id"], change)
    account.orders_received += 1
    return JSONResponse(order_json(order))


def _order_filter(request: Request) -> OrderFilter:
    params = request.query_params
    status = params.get("status", "open")
    direction = params.get("direction", "desc")
    side = params.get("side")
    if status not in {"open", "closed", "all"}:
        raise unprocessable("invalid status")
    if direction not in {"asc", "desc"}:
        raise unprocessable("invalid direction")
    if side not in {None, "buy", "sell"}:
        raise unprocessable("invalid side")
    try:
        limit = int(params.get("limit", "50"))
    except ValueError:
        raise unprocessable("invalid limit") from None
    if not 1 <= limit <= _MAX_ORDER_LIMIT:
        raise unprocessable(f"limit must be between 1 and {_MAX_ORDER_LIMIT}")
    symbols = params.get("symbols")
    return OrderFilter(
        status=status,
        limit=limit,
        direction=direction,
        after=timestamp_param(params.get("after"), "after"),
        until=timestamp_param(params.get("until"), "until"),
        symbols=frozenset(s.strip().upper() for s in symbols.split(",") if s.strip())
        if symbols
        else None,
        side=side,
    )


def timestamp_param(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise unprocessable(f"invalid {name}") from None
    if moment.tzinfo is None:
        raise unprocessable(f"{name} must carry a time zone")
    return moment


async def get_order(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    return JSONResponse(
        order_json(sandbox.broker.orders.get(account, request.path_params["order_id"]))
    )


async def get_order_by_client_id(
    request: Request, sandbox: Sandbox, account: SandboxAccount
) -> Response:
    client_order_id = request.query_params.get("client_order_id")
    if not client_order_id:
        raise unprocessable("client_order_id is required")
    order = sandbox.broker.orders.by_client_id(account, client_order_id)
    return JSONResponse(order_json(order))


async def cancel_order(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    sandbox.broker.orders.cancel(account, request.path_params["order_id"])
    return Response(status_code=204)


async def cancel_all_orders(
    request: Request, sandbox: Sandbox, account: SandboxAccount
) -> Response:
    canceled = sandbox.broker.orders.cancel_all(account)
    body = [{"id": str(o.id), "status": 200, "body": order_json(o)} for o in canceled]
    return JSONResponse(body, status_code=207)


# ------------------------------------------------------------------- reference data


async def list_assets(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    status = request.query_params.get("status")
    # As at Alpaca, the list is of US equities unless another class is asked for.
    asset_class = request.query_params.get("asset_class") or "us_equity"
    assets = [
        a
        for a in CATALOG.values()
        if (status is None or a.status == status)
        and (asset_class is None or a.asset_class == asset_class)
    ]
    return JSONResponse([asset_json(a) for a in assets])


async def get_asset(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    asset = find_asset(request.path_params["symbol"])
    if asset is None:
        raise not_found("asset not found")
    return JSONResponse(asset_json(asset))


async def get_clock(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    return JSONResponse(clock_json(sandbox.broker.clock))
