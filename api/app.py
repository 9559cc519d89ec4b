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
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from os import PathLike
from pathlib import Path
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db.ledger import pending_migrations
from api.db.outage import is_outage
from api.errors import ServiceUnavailable
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
# Sent only over https (the scheme after a trusted proxy's X-Forwarded-Proto): over
# plain http a browser ignores it, and a development server must stay reachable.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
# As ASGI carries them, encoded once: they are added to every response
_RAW_SECURITY_HEADERS = tuple((name.encode(), value.encode()) for name, value in SECURITY_HEADERS)
_RAW_STRICT_TRANSPORT_SECURITY = (b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode())


class SecurityHeaders:
    """Adds the security headers to every HTTP response that has not set its own,
    errors included.

    Pure ASGI (not BaseHTTPMiddleware): no per-request task, WebSockets untouched.
    Starlette's ServerErrorMiddleware sits outside every middleware, so the 500 it
    would send for an unhandled exception would lack these headers: the 500 is
    sent from here instead, and the exception re-raised for it to log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        https = scope.get("scheme") == "https"
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = message["headers"] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                added = (*_RAW_SECURITY_HEADERS, _RAW_STRICT_TRANSPORT_SECURITY) if https else (
                    _RAW_SECURITY_HEADERS
                )  # fmt: skip
                headers.extend(header for header in added if header[0] not in present)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                failure = PlainTextResponse("Internal Server Error", status_code=500)
                await failure(scope, receive, send_with_headers)
            raise


class OutageAnswers:
    """While the database is down, /graphql answers SERVICE_UNAVAILABLE, never a bare 500.

    Resolvers' outages are coded by the schema (schema/errors.py); this catches what
    fails before any resolver runs (the session lookup of `get_context`). The database
    logs the outage once (api/db/outage.py), so no traceback is written per request.
    WebSockets to /graphql never come here (App.__call__).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if not is_outage(error) or started:
                raise
            unavailable = ServiceUnavailable(
                "The service is unavailable right now (its database cannot be reached); "
                "nothing was changed. Try again shortly."
            )
            body = {
                "errors": [{"message": unavailable.message, "extensions": unavailable.extensions}]
            }
            await JSONResponse(body)(scope, receive, send)


class App(Starlette):
    """Starlette, except that a WebSocket to /graphql skips the layers meant for HTTP.

    A WebSocket's call lasts as long as the connection, and so does a suspended
    frame of every layer it passed through: Starlette's error and exception
    middleware, SecurityHeaders (HTTP only), the router and the route, some
    4 KiB per open socket, when the budget for an idle subscriber is 40 KiB
    (docs/architecture.md#performance-budget). None of them does anything for
    it: the error middleware and the security headers pass WebSockets through,
    the exception middleware only handles exceptions the endpoint never raises,
    and the route is known. So such a socket goes straight to the endpoint, and
    a database outage while it starts (the session lookup of `get_context`)
    closes it here with 1013, "try again later", and no traceback (the database
    logs the outage once, api/db/outage.py). Every other call takes the whole stack.
    """

    def __init__(self, *, graphql_sockets: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._graphql_sockets = graphql_sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or _route_path(scope) != "/graphql":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # as Starlette sets it for every call
        try:
            await self._graphql_sockets(scope, receive, send)
        except Exception as error:
            if not is_outage(error):
                raise
            await send({"type": "websocket.close", "code": 1013})


def _route_path(scope: Scope) -> str:
    """The path below the app's mount point (what Starlette's router matches)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


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
        # an outage is logged once by the database (api/db/outage.py), not per poll
        log.debug("%s check failed: %s", check, type(error).__name__)
        return False
    return True


async def healthz(request: Request) -> JSONResponse:
    """Alive: the database answers. Cheap enough for any poller."""
    if not await _database_answers(request.app.state.services, "health"):
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _disk_low(services: Services) -> bool:
    """The embedded database's data folder has less free space than DISK_FREE_MIN_MB: a full
    disk stops every write (SERVICE_UNAVAILABLE), so it shows before it is full (OPS-01)."""
    settings = services.settings
    if not settings.embedded:
        return False  # the database's disk is its operator's to watch
    try:
        free = shutil.disk_usage(settings.home).free
    except OSError:
        return True
    return free < settings.disk_free_min_mb * 1024 * 1024


class Readiness:
    """`/readyz`: ready for traffic when the database answers, the event bus listens
    (without it no live update reaches anyone, RT-02), the database has run every
    migration this code knows (OPS-02) and the embedded database's disk has room.
    503 names what is not ready.

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
        if _disk_low(services):
            not_ready.append("disk")
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


def create_app(services: Services) -> App:
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

    app = App(
        graphql_sockets=graphql,
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", Readiness().check),
            Route("/graphql", graphql),  # its WebSockets: App.__call__
            Mount("/", app=PwaFiles(directory=PWA_DIR, html=True, check_dir=False)),
        ],
        middleware=[Middleware(SecurityHeaders), Middleware(OutageAnswers)],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
