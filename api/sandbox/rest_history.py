"""Trading API v2 routes for an account's past and its lists: portfolio history, activities,
watchlists, and the market calendar (HIST-01, HIST-02, HIST-04).

Mounted beside ``api.sandbox.rest``'s routes under ``/paper`` and ``/live``,
behind the same gate (``guarded``), so a key reaches only its own account.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.sandbox import activities, watchlists
from api.sandbox.calendar import trading_days
from api.sandbox.clock import now
from api.sandbox.errors import unprocessable
from api.sandbox.history import parse_request, portfolio_history
from api.sandbox.records import SandboxAccount
from api.sandbox.rest import Handler, guarded, json_body, timestamp_param
from api.sandbox.runtime import Sandbox
from api.sandbox.wire import (
    activity_json,
    calendar_json,
    portfolio_history_json,
    watchlist_json,
)

_CALENDAR_DEFAULT_DAYS = 30


def history_routes(environment: str) -> list[Route]:
    def route(path: str, handlers: dict[str, Handler]) -> Route:
        return Route(path, guarded(handlers, environment), methods=list(handlers))

    return [
        route("/v2/account/portfolio/history", {"GET": get_portfolio_history}),
        route("/v2/account/activities", {"GET": list_activities}),
        route("/v2/watchlists", {"GET": list_watchlists, "POST": create_watchlist}),
        route(
            "/v2/watchlists/{watchlist_id}",
            {
                "GET": get_watchlist,
                "POST": add_to_watchlist,
                "PUT": replace_watchlist,
                "DELETE": delete_watchlist,
            },
        ),
        route("/v2/watchlists/{watchlist_id}/{symbol}", {"DELETE": remove_from_watchlist}),
        route("/v2/calendar", {"GET": get_calendar}),
    ]


async def get_portfolio_history(
    request: Request, sandbox: Sandbox, account: SandboxAccount
) -> Response:
    params = request.query_params
    wanted = parse_request(
        params.get("period"), params.get("timeframe"), params.get("date_end"), params.get("end")
    )
    history = portfolio_history(sandbox.broker.history, account, wanted)
    return JSONResponse(portfolio_history_json(history))


async def list_activities(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    params = request.query_params
    kinds = frozenset(
        k.strip().upper() for k in params.get("activity_types", "").split(",") if k.strip()
    )
    if kinds - activities.KINDS:
        # Alpaca knows many more types; this account can only ever have these.
        kinds &= activities.KINDS
    elif not kinds:
        kinds = activities.KINDS
    direction = params.get("direction", "desc")
    if direction not in {"asc", "desc"}:
        raise unprocessable("invalid direction")
    try:
        page_size = int(params.get("page_size", str(activities.MAX_PAGE_SIZE)))
    except ValueError:
        raise unprocessable("invalid page_size") from None
    if not 1 <= page_size <= activities.MAX_PAGE_SIZE:
        raise unprocessable(f"page_size must be between 1 and {activities.MAX_PAGE_SIZE}")
    flt = activities.ActivityFilter(
        kinds=kinds,
        direction=direction,
        page_size=page_size,
        page_token=params.get("page_token") or None,
        after=timestamp_param(params.get("after"), "after"),
        until=timestamp_param(params.get("until"), "until"),
    )
    return JSONResponse([activity_json(account, a) for a in activities.page(account, flt)])


async def list_watchlists(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    listed = sorted(account.watchlists.values(), key=lambda w: w.created_at)
    return JSONResponse([watchlist_json(account, w, with_assets=False) for w in listed])


async def create_watchlist(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    created = watchlists.create(account, await _object_body(request))
    return JSONResponse(watchlist_json(account, created))


async def get_watchlist(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    found = watchlists.get(account, request.path_params["watchlist_id"])
    return JSONResponse(watchlist_json(account, found))


async def add_to_watchlist(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    body = await _object_body(request)
    changed = watchlists.add(account, request.path_params["watchlist_id"], body)
    return JSONResponse(watchlist_json(account, changed))


async def replace_watchlist(
    request: Request, sandbox: Sandbox, account: SandboxAccount
) -> Response:
    body = await _object_body(request)
    changed = watchlists.replace(account, request.path_params["watchlist_id"], body)
    return JSONResponse(watchlist_json(account, changed))


async def delete_watchlist(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    watchlists.delete(account, request.path_params["watchlist_id"])
    return Response(status_code=204)


async def remove_from_watchlist(
    request: Request, sandbox: Sandbox, account: SandboxAccount
) -> Response:
    path = request.path_params
    changed = watchlists.remove(account, path["watchlist_id"], path["symbol"])
    return JSONResponse(watchlist_json(account, changed))


async def get_calendar(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    today = now().date()
    start = _day(request.query_params.get("start"), today - timedelta(_CALENDAR_DEFAULT_DAYS))
    end = _day(request.query_params.get("end"), today + timedelta(_CALENDAR_DEFAULT_DAYS))
    days = trading_days(start, end, sandbox.broker.clock.half_days)
    return JSONResponse([calendar_json(d) for d in days])


def _day(raw: str | None, default: date) -> date:
    if not raw:
        return default
    try:
        # Alpaca takes a date or an RFC 3339 time here.
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise unprocessable("invalid date") from None


async def _object_body(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise unprocessable("request body must be a JSON object")
    return body
