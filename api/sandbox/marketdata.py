"""Market-data routes (``/data/v2/stocks/...``): latest quote and latest trade.

They answer in the compact keys of Alpaca's data API (``ap``, ``bp``, ``t`` ...)
that alpaca-py's ``StockHistoricalDataClient`` maps into its models. Keys of
either environment are accepted, as on Alpaca.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.sandbox.errors import bad_request, not_found
from api.sandbox.records import SandboxAccount
from api.sandbox.rest import Handler, guarded
from api.sandbox.runtime import Sandbox
from api.sandbox.wire import quote_json, trade_json


def data_routes() -> list[Route]:
    def route(path: str, handler: Handler) -> Route:
        return Route(path, guarded({"GET": handler}, None), methods=["GET"])

    return [
        route("/v2/stocks/quotes/latest", latest_quotes),
        route("/v2/stocks/trades/latest", latest_trades),
        route("/v2/stocks/{symbol}/quotes/latest", latest_quote),
        route("/v2/stocks/{symbol}/trades/latest", latest_trade),
    ]


def _symbols(request: Request, sandbox: Sandbox) -> list[str]:
    raw = request.query_params.get("symbols")
    if not raw:
        raise bad_request("symbols is required")
    # Alpaca leaves unknown symbols out of the answer rather than failing the request.
    return [s for s in (part.strip().upper() for part in raw.split(",")) if sandbox.prices.knows(s)]


def _symbol(request: Request, sandbox: Sandbox) -> str:
    symbol = str(request.path_params["symbol"]).upper()
    if not sandbox.prices.knows(symbol):
        raise not_found(f"symbol {symbol} not found")
    return symbol


async def latest_quotes(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    quotes = {s: quote_json(sandbox.prices.quote(s)) for s in _symbols(request, sandbox)}
    return JSONResponse({"quotes": quotes})


async def latest_trades(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    prices = sandbox.prices
    trades = {s: trade_json(prices, prices.quote(s)) for s in _symbols(request, sandbox)}
    return JSONResponse({"trades": trades})


async def latest_quote(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    symbol = _symbol(request, sandbox)
    return JSONResponse({"symbol": symbol, "quote": quote_json(sandbox.prices.quote(symbol))})


async def latest_trade(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    symbol = _symbol(request, sandbox)
    prices = sandbox.prices
    return JSONResponse({"symbol": symbol, "trade": trade_json(prices, prices.quote(symbol))})
