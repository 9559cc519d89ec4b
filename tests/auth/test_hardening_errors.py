"""An unhandled exception still answers with the security headers (AUTH-04), and no trace.

Starlette's ServerErrorMiddleware sits outside every middleware; our SecurityHeaders
answers the 500 itself. Driven through a real Starlette app with our middleware, since
the product has (by design) no route that fails on purpose.
"""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.app import SECURITY_HEADERS, SecurityHeaders


async def _fails(request: Request) -> Response:
    raise RuntimeError("a bug: internal detail 7f3a")


async def test_a_500_carries_the_security_headers_and_no_detail_AUTH_04() -> None:
    app = Starlette(routes=[Route("/fails", _fails)], middleware=[Middleware(SecurityHeaders)])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await client.get("/fails")
    assert response.status_code == 500
    for name, value in SECURITY_HEADERS:
        assert response.headers[name] == value
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "7f3a" not in response.text and "Traceback" not in response.text
