"""The Starlette application: /healthz, /graphql and the PWA.

Settings are read once and the database opened by the caller (the command
line or a test), so that a bad configuration fails before the server starts,
with one line and no traceback. The services arrive built by the composition
root (api/services.py); what is built here (schema, GraphQL endpoint) is built
once per process.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from os import PathLike
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

from api.db.ledger import pending_migrations
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

    def file_response(
        self,
        full_path: str | PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if Path(full_path).name == "sw.js":
            response.headers["cache-control"] = "no-cache"
        return response


_DATABASE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def _database_answers(services: Services, check: str) -> bool:
    try:
        async with asyncio.timeout(2), services.database.anonymous() as conn:
            await conn.fetchval("select 1")
    except _DATABASE_ERRORS as error:
        log.warning("%s check failed: %s", check, type(error).__name__)
        return False
    return True


async def healthz(request: Request) -> JSONResponse:
    """Alive: the database answers. Cheap enough for any poller."""
    if not await _database_answers(request.app.state.services, "health"):
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


class Readiness:
    """`/readyz`: ready for traffic when the database answers, the event bus listens
    (without it no live update reaches anyone, RT-02) and the database has run every
    migration this code knows (OPS-02). 503 names what is not ready.

    Migrations only move forward while a process runs, so the (owner-connection)
    migration check is made until it first succeeds, then remembered.
    """

    def __init__(self) -> None:
        self._migrated = False

    async def check(self, request: Request) -> JSONResponse:
        services: Services = request.app.state.services
        not_ready = []
        if not await _database_answers(services, "readiness"):
            not_ready.append("database")
        elif not await self._migrations_current(services):
            not_ready.append("migrations")
        if not services.bus.connected:
            not_ready.append("eventBus")
        if not_ready:
            return JSONResponse({"status": "unavailable", "notReady": not_ready}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def _migrations_current(self, services: Services) -> bool:
        if not self._migrated:
            try:
                async with asyncio.timeout(5):
                    pending = await pending_migrations(services.database.owner_dsn)
            except _DATABASE_ERRORS as error:
                log.warning("readiness check of migrations failed: %s", type(error).__name__)
                return False
            self._migrated = not pending
        return self._migrated


def create_app(services: Services) -> Starlette:
    """The ASGI app over an opened database; the caller owns opening and closing it."""
    # imported here, not at the top: commands that never serve (migrate, invite,
    # rotate-key) then never load Strawberry and the schema
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
            Route("/readyz", Readiness().check),
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Mount("/", app=PwaFiles(directory=PWA_DIR, html=True, check_dir=False)),
        ],
        middleware=[Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
