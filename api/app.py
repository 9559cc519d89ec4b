"""The Starlette application: /healthz, /graphql and the PWA.

Settings are read once and the database opened by the caller (the command
line or a test), so that a bad configuration fails before the server starts,
with one line and no traceback. Everything built here (schema, auth service,
GraphQL endpoint) is built once per process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.services import Services

log = logging.getLogger(__name__)

PWA_DIR = Path(__file__).resolve().parents[1] / "pwa"

# The PWA's policy: its own scripts, styles and API only. GraphiQL's page sets
# its own (schema/endpoint.py), since it loads from a CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
)


class SecurityHeaders:
    """Adds the security headers to every HTTP response that has not set its own.

    Pure ASGI (not BaseHTTPMiddleware): no per-request task, WebSockets untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PwaFiles(StaticFiles):
    """The PWA's static files; the service worker is always revalidated, so a new
    release reaches phones on their next visit."""

    def file_response(self, full_path: str | Path, *args: object, **kwargs: object) -> Response:
        response = super().file_response(full_path, *args, **kwargs)  # type: ignore[arg-type]
        if Path(full_path).name == "sw.js":
            response.headers["cache-control"] = "no-cache"
        return response


async def healthz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        async with asyncio.timeout(2), services.database.anonymous() as conn:
            await conn.fetchval("select 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        log.warning("health check failed: %s", type(error).__name__)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_app(services: Services) -> Starlette:
    """The ASGI app over an opened database; the caller owns opening and closing it."""
    # imported here: the schema imports api modules, never the other way round
    from schema import build_schema
    from schema.endpoint import GraphQLEndpoint

    schema = build_schema(production=not services.settings.graphiql)
    graphql = GraphQLEndpoint(schema, services)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Mount("/", app=PwaFiles(directory=PWA_DIR, html=True, check_dir=False)),
        ],
        middleware=[Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
