"""The Starlette application: /healthz, /graphql and the PWA.

Settings are read once and the database opened by the caller (the command
line or a test), so that a bad configuration fails before the server starts,
with one line and no traceback.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.config import Settings
from api.db import Database
from api.vault import Vault

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the lifespan opens and every request shares."""

    settings: Settings
    database: Database
    vault: Vault


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
    app = Starlette(routes=[Route("/healthz", healthz)])
    app.state.services = services
    return app
