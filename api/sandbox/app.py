"""The sandbox broker as one Starlette app: both environments, market data, streams, controls.

``create_sandbox_app`` is the only constructor; all state lives on
``app.state.sandbox`` so each app is an independent broker. Layout of paths:

- ``/paper/v2/...``, ``/live/v2/...``: Trading API v2
  (``TradingClient(url_override="http://HOST:PORT/paper")``)
- ``/paper/stream``, ``/live/stream``: trade updates
  (``TradingStream(url_override="ws://HOST:PORT/paper/stream")``; alpaca-py uses the
  override as the whole URL and appends nothing, so ``ws://HOST:PORT/paper`` is served too)
- ``/data/v2/stocks/...``: latest quotes and trades, historical bars
  (``StockHistoricalDataClient(url_override="http://HOST:PORT/data")``)
- ``/_sandbox/...``: control endpoints, no authentication
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, WebSocketRoute
from starlette.websockets import WebSocket

from api.sandbox.accounts import ENVIRONMENTS
from api.sandbox.control import control_routes
from api.sandbox.errors import CODE_NOT_FOUND
from api.sandbox.marketdata import data_routes
from api.sandbox.rest import trading_routes
from api.sandbox.rest_history import history_routes
from api.sandbox.runtime import Sandbox, sandbox_of
from api.sandbox.stream import serve_stream

DEFAULT_SEED = 7
DEFAULT_DEMO_CASH = Decimal("100000")


def create_sandbox_app(seed: int = DEFAULT_SEED, tick_seconds: float = 1.0) -> Starlette:
    """A fresh sandbox broker. ``tick_seconds`` <= 0 freezes prices (they move only when set)."""
    sandbox = Sandbox.build(seed, tick_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick_forever(sandbox)) if tick_seconds > 0 else None
        try:
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker

    app = Starlette(
        routes=_routes(),
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
    app.state.sandbox = sandbox
    return app


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for environment in ENVIRONMENTS:
        endpoint = _stream_endpoint(environment)
        # Stream routes come before the mounts, which would otherwise claim their paths.
        routes.append(WebSocketRoute(f"/{environment}/stream", endpoint))
        routes.append(WebSocketRoute(f"/{environment}", endpoint))
    for environment in ENVIRONMENTS:
        served = trading_routes(environment) + history_routes(environment)
        routes.append(Mount(f"/{environment}", routes=served))
    routes.append(Mount("/data", routes=data_routes()))
    routes.append(Mount("/_sandbox", routes=control_routes()))
    return routes


def _stream_endpoint(environment: str) -> Any:
    async def endpoint(websocket: WebSocket) -> None:
        sandbox = sandbox_of(websocket)
        await serve_stream(websocket, sandbox.broker, sandbox.hub, environment)

    return endpoint


async def _tick_forever(sandbox: Sandbox) -> None:
    while True:
        await asyncio.sleep(sandbox.tick_seconds)
        changed = sandbox.prices.tick()
        sandbox.broker.sweep(changed)
        sandbox.broker.sample_equity()


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"code": CODE_NOT_FOUND, "message": "endpoint not found"}, status_code=404)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return JSONResponse({"code": 40510000, "message": "method not allowed"}, status_code=405)


def mint_demo_accounts(
    app: Starlette, n: int, environment: str = "paper", cash: Decimal = DEFAULT_DEMO_CASH
) -> list[dict[str, str]]:
    """Mint ``n`` funded accounts in a running or not-yet-started sandbox app.

    Returns ``{"api_key_id", "secret_key", "account_number", "environment"}`` per
    account; the caller decides whether to show the secrets (the CLI prints them).
    """
    sandbox: Sandbox = app.state.sandbox
    return [sandbox.broker.accounts.mint(environment, cash).as_dict() for _ in range(n)]
