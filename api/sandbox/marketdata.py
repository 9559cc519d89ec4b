"""Market-data routes (``/data/v2/stocks/...``): latest quote and trade, historical bars;
the latest crypto quotes and trades (``/data/v1beta3/crypto/us/latest/...``, ORD-04).

They answer in the compact keys of Alpaca's data API (``ap``, ``bp``, ``t`` ...)
that alpaca-py's ``StockHistoricalDataClient`` maps into its models. Keys of
either environment are accepted, as on Alpaca.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.sandbox.bars import Bar, generate, parse_timeframe
from api.sandbox.clock import now
from api.sandbox.errors import bad_request, not_found, unprocessable
from api.sandbox.records import SandboxAccount
from api.sandbox.rest import Handler, guarded, timestamp_param
from api.sandbox.runtime import Sandbox
from api.sandbox.wire import bar_json, quote_json, trade_json

_DEFAULT_BAR_LIMIT = 1000
_MAX_BAR_LIMIT = 10000


def data_routes() -> list[Route]:
    def route(path: str, handler: Handler) -> Route:
        return Route(path, guarded({"GET": handler}, None), methods=["GET"])

    return [
        route("/v2/stocks/quotes/latest", latest_quotes),
        route("/v2/stocks/trades/latest", latest_trades),
        route("/v2/stocks/{symbol}/quotes/latest", latest_quote),
        route("/v2/stocks/{symbol}/trades/latest", latest_trade),
        route("/v2/stocks/bars", multi_bars),
        route("/v2/stocks/{symbol}/bars", symbol_bars),
        route("/v1beta3/crypto/us/latest/quotes", latest_quotes),
        route("/v1beta3/crypto/us/latest/trades", latest_trades),
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


def _bars(
    request: Request, sandbox: Sandbox, symbols: list[str]
) -> tuple[dict[str, list[Bar]], str | None]:
    """Bars of each symbol for the request's timeframe and window, paged over all of them.

    As on Alpaca, ``start`` defaults to the start of the day, ``end`` to now,
    ``limit`` counts bars across every symbol, and ``next_page_token`` says
    where the next page starts (here: the symbol and bar time, encoded).
    """
    params = request.query_params
    frame = parse_timeframe(params.get("timeframe"))
    moment = now()
    start = timestamp_param(params.get("start"), "start") or datetime.combine(
        moment.date(), time(0), UTC
    )
    end = min(timestamp_param(params.get("end"), "end") or moment, moment)
    try:
        limit = int(params.get("limit", str(_DEFAULT_BAR_LIMIT)))
    except ValueError:
        raise unprocessable("invalid limit") from None
    if not 1 <= limit <= _MAX_BAR_LIMIT:
        raise unprocessable(f"limit must be between 1 and {_MAX_BAR_LIMIT}")
    descending = params.get("sort", "asc") == "desc"
    after = _page_token(params.get("page_token"))
    found: dict[str, list[Bar]] = {}
    served: tuple[str, datetime] | None = None
    for symbol in sorted(symbols):
        if after is not None and symbol < after[0]:
            continue
        bars = generate(
            sandbox.prices.seed, symbol, frame, sandbox.broker.clock,
            sandbox.prices.price(symbol), start, end, moment,
        )  # fmt: skip
        if descending:
            bars.reverse()
        if after is not None and symbol == after[0]:
            bars = [b for b in bars if (b.at < after[1] if descending else b.at > after[1])]
        if not bars:
            continue
        left = limit - sum(len(listed) for listed in found.values())
        if left == 0:
            # More bars exist than one page holds: the token names the last one served.
            return found, _token(*served) if served else None
        found[symbol] = bars[:left]
        served = (symbol, found[symbol][-1].at)
        if len(bars) > left:
            return found, _token(*served)
    return found, None


def _token(symbol: str, at: datetime) -> str:
    return base64.urlsafe_b64encode(f"{symbol}:{int(at.timestamp())}".encode()).decode()


def _page_token(raw: str | None) -> tuple[str, datetime] | None:
    if not raw:
        return None
    try:
        symbol, mark = base64.urlsafe_b64decode(raw.encode()).decode().split(":")
        return symbol, datetime.fromtimestamp(int(mark), UTC)
    except (ValueError, binascii.Error):
        raise bad_request("invalid page_token") from None


async def multi_bars(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    found, token = _bars(request, sandbox, _symbols(request, sandbox))
    bars = {s: [bar_json(b) for b in listed] for s, listed in found.items()}
    return JSONResponse({"bars": bars, "next_page_token": token, "currency": "USD"})


async def symbol_bars(request: Request, sandbox: Sandbox, account: SandboxAccount) -> Response:
    symbol = _symbol(request, sandbox)
    found, token = _bars(request, sandbox, [symbol])
    listed = [bar_json(b) for b in found.get(symbol, [])]
    return JSONResponse({"symbol": symbol, "bars": listed, "next_page_token": token})
