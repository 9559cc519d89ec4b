"""OPS-03: every answer of the sandbox broker validates against Alpaca's OpenAPI document.

The document is ``tests/data/alpaca-trading-api.json`` (source and quirks in
``tests/data/README.md``). Each endpoint the sandbox serves under ``/paper`` is
called for real and its body checked against the response schema the document
gives for that path, method and status; a completeness test fails if the
sandbox grows an endpoint this file does not check.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from starlette.routing import Mount, Route

from api.sandbox import create_sandbox_app
from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.clients import auth_headers

DOCUMENT = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "alpaca-trading-api.json").read_text()
)
# The sandbox names some path parameters more briefly than the document does.
DOCUMENTED_TEMPLATES = {
    "/v2/positions/{symbol}": "/v2/positions/{symbol_or_asset_id}",
    "/v2/assets/{symbol}": "/v2/assets/{symbol_or_asset_id}",
}


def _validate(schema: dict[str, Any], body: Any) -> None:
    # The document's $refs point into its own components; carry them along with the schema.
    root = {"allOf": [schema], "components": DOCUMENT["components"]}
    OAS30Validator(root, format_checker=oas30_format_checker).validate(body)


def _response_schema(template: str, method: str, status: int) -> dict[str, Any] | None:
    responses = DOCUMENT["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} documents no {status} answer"
    content = responses[str(status)].get("content")
    if content is None:
        return None
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema


class Caller:
    """One funded account with a position, a filled order and a resting order."""

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.keys = sandbox.mint_account(
            positions=[
                {"symbol": "AAPL", "qty": "10", "avg_entry_price": "150"},
                {"symbol": "KO", "qty": "4", "avg_entry_price": "60"},
            ]
        )
        self.http = httpx.Client(base_url=sandbox.paper_url, headers=auth_headers(self.keys))
        self.client_order_id = f"oapi-{uuid.uuid4()}"
        self.resting = self.order(
            type="limit", limit_price=60, symbol="NVDA", time_in_force="gtc",
            client_order_id=self.client_order_id,
        )  # fmt: skip
        self.filled = self.order(symbol="MSFT", notional=250)
        sandbox.pay_dividend(self.keys["account_number"], "KO", "0.485")
        self._watchlist: dict[str, Any] | None = None

    @property
    def watchlist(self) -> dict[str, Any]:
        """A watchlist of the account with one symbol in it, made on first use."""
        if self._watchlist is None:
            body = {"name": "Primary Watchlist", "symbols": ["AAPL"]}
            response = self.http.post("/v2/watchlists", json=body)
            assert response.status_code == 200, response.text
            self._watchlist = response.json()
        return self._watchlist

    def order(self, **fields: Any) -> dict[str, Any]:
        body = {"side": "buy", "type": "market", "time_in_force": "day", "qty": 1, **fields}
        if "notional" in fields:
            body.pop("qty")
        response = self.http.post("/v2/orders", json=body)
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        return order

    def suspended_order(self) -> httpx.Response:
        """A new order after the account holder switched ``suspend_trade`` on (RISK-04)."""
        patched = self.http.patch("/v2/account/configurations", json={"suspend_trade": True})
        assert patched.status_code == 200, patched.text
        return self.http.post(
            "/v2/orders",
            json={
                "symbol": "KO",
                "qty": 1,
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
            },
        )


Call = Callable[[Caller], httpx.Response]


@pytest.fixture
def caller(sandbox: SandboxHandle) -> Iterator[Caller]:
    made = Caller(sandbox)
    yield made
    made.http.close()


ENDPOINTS: list[tuple[str, str, int, Call]] = [
    ("GET", "/v2/account", 200, lambda c: c.http.get("/v2/account")),
    (
        "GET",
        "/v2/account/configurations",
        200,
        lambda c: c.http.get("/v2/account/configurations"),
    ),
    (
        "PATCH",
        "/v2/account/configurations",
        200,
        lambda c: c.http.patch(
            "/v2/account/configurations", json={"no_shorting": True, "trade_confirm_email": "none"}
        ),
    ),
    ("GET", "/v2/positions", 200, lambda c: c.http.get("/v2/positions")),
    ("DELETE", "/v2/positions", 207, lambda c: c.http.delete("/v2/positions")),
    ("GET", "/v2/positions/{symbol_or_asset_id}", 200, lambda c: c.http.get("/v2/positions/AAPL")),
    (
        "DELETE",
        "/v2/positions/{symbol_or_asset_id}",
        200,
        lambda c: c.http.delete("/v2/positions/AAPL", params={"percentage": "50"}),
    ),
    ("GET", "/v2/orders", 200, lambda c: c.http.get("/v2/orders", params={"status": "all"})),
    (
        "POST",
        "/v2/orders",
        200,
        lambda c: c.http.post(
            "/v2/orders",
            json={
                "symbol": "KO",
                "qty": 1,
                "side": "sell",
                "type": "market",
                "time_in_force": "day",
            },
        ),
    ),
    ("DELETE", "/v2/orders", 207, lambda c: c.http.delete("/v2/orders")),
    ("GET", "/v2/orders/{order_id}", 200, lambda c: c.http.get(f"/v2/orders/{c.filled['id']}")),
    (
        "PATCH",
        "/v2/orders/{order_id}",
        200,
        lambda c: c.http.patch(f"/v2/orders/{c.resting['id']}", json={"limit_price": "61"}),
    ),
    (
        "DELETE",
        "/v2/orders/{order_id}",
        204,
        lambda c: c.http.delete(f"/v2/orders/{c.resting['id']}"),
    ),
    (
        "GET",
        "/v2/orders:by_client_order_id",
        200,
        lambda c: c.http.get(
            "/v2/orders:by_client_order_id", params={"client_order_id": c.client_order_id}
        ),
    ),
    ("GET", "/v2/assets", 200, lambda c: c.http.get("/v2/assets")),
    ("GET", "/v2/assets/{symbol_or_asset_id}", 200, lambda c: c.http.get("/v2/assets/AAPL")),
    ("GET", "/v2/clock", 200, lambda c: c.http.get("/v2/clock")),
    (
        "GET",
        "/v2/account/portfolio/history",
        200,
        lambda c: c.http.get(
            "/v2/account/portfolio/history", params={"period": "1W", "timeframe": "1H"}
        ),
    ),
    (
        "GET",
        "/v2/account/activities",
        200,
        lambda c: c.http.get("/v2/account/activities", params={"page_size": 10}),
    ),
    ("GET", "/v2/watchlists", 200, lambda c: (c.watchlist, c.http.get("/v2/watchlists"))[1]),
    (
        "POST",
        "/v2/watchlists",
        200,
        lambda c: c.http.post("/v2/watchlists", json={"name": "Tech", "symbols": ["NVDA"]}),
    ),
    (
        "GET",
        "/v2/watchlists/{watchlist_id}",
        200,
        lambda c: c.http.get(f"/v2/watchlists/{c.watchlist['id']}"),
    ),
    (
        "POST",
        "/v2/watchlists/{watchlist_id}",
        200,
        lambda c: c.http.post(f"/v2/watchlists/{c.watchlist['id']}", json={"symbol": "TSLA"}),
    ),
    (
        "PUT",
        "/v2/watchlists/{watchlist_id}",
        200,
        lambda c: c.http.put(
            f"/v2/watchlists/{c.watchlist['id']}", json={"name": "Mine", "symbols": ["KO", "V"]}
        ),
    ),
    (
        "DELETE",
        "/v2/watchlists/{watchlist_id}",
        204,
        lambda c: c.http.delete(f"/v2/watchlists/{c.watchlist['id']}"),
    ),
    (
        "DELETE",
        "/v2/watchlists/{watchlist_id}/{symbol}",
        200,
        lambda c: c.http.delete(f"/v2/watchlists/{c.watchlist['id']}/AAPL"),
    ),
    (
        "GET",
        "/v2/calendar",
        200,
        lambda c: c.http.get("/v2/calendar", params={"start": "2025-11-24", "end": "2025-12-01"}),
    ),
]


@pytest.mark.parametrize(
    ("method", "template", "status", "call"),
    ENDPOINTS,
    ids=[f"{method} {template}" for method, template, _, _ in ENDPOINTS],
)
def test_ops03_answer_matches_alpaca_openapi(
    caller: Caller, method: str, template: str, status: int, call: Call
) -> None:
    response = call(caller)
    assert response.status_code == status, response.text
    schema = _response_schema(template, method, status)
    if schema is None:
        assert response.content == b""
        return
    body = response.json()
    if isinstance(body, list):
        assert body, "an empty list would validate trivially"
    _validate(schema, body)


ERRORS: list[tuple[str, int, Call]] = [
    ("unknown asset", 404, lambda c: c.http.get("/v2/assets/XYZQ")),
    ("missing position", 404, lambda c: c.http.get("/v2/positions/TSLA")),
    ("invalid order", 422, lambda c: c.http.post("/v2/orders", json={"symbol": "AAPL"})),
    (
        "insufficient buying power",
        403,
        lambda c: c.http.post(
            "/v2/orders",
            json={
                "symbol": "COST",
                "qty": 500,
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
            },
        ),
    ),
    ("not cancelable", 422, lambda c: c.http.delete(f"/v2/orders/{c.filled['id']}")),
    ("trading suspended by the holder", 403, lambda c: c.suspended_order()),
    (
        "invalid configuration",
        422,
        lambda c: c.http.patch("/v2/account/configurations", json={"suspend_trade": "yes"}),
    ),
    ("bad keys", 401, lambda c: httpx.get(str(c.http.base_url).rstrip("/") + "/v2/account")),
    (
        "unknown period",
        422,
        lambda c: c.http.get("/v2/account/portfolio/history", params={"period": "1Q"}),
    ),
    ("unknown watchlist", 404, lambda c: c.http.get(f"/v2/watchlists/{uuid.uuid4()}")),
    (
        "unknown watchlist symbol",
        422,
        lambda c: c.http.post("/v2/watchlists", json={"name": "X", "symbols": ["XYZQ"]}),
    ),
]


@pytest.mark.parametrize(("name", "status", "call"), ERRORS, ids=[e[0] for e in ERRORS])
def test_ops03_errors_match_alpaca_error_schema(
    caller: Caller, name: str, status: int, call: Call
) -> None:
    # The document lists these statuses mostly without a body schema; Alpaca answers them
    # with its `Error` object ({code, message}), which is what the sandbox must send.
    response = call(caller)
    assert response.status_code == status, response.text
    _validate({"$ref": "#/components/schemas/Error"}, response.json())


def test_ops03_every_served_trading_endpoint_is_checked() -> None:
    app = create_sandbox_app(tick_seconds=0)
    paper = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/paper")
    served = set()
    for route in paper.routes:
        assert isinstance(route, Route)
        template = DOCUMENTED_TEMPLATES.get(route.path, route.path)
        served |= {(method, template) for method in route.methods or () if method != "HEAD"}
    checked = {(method, template) for method, template, _, _ in ENDPOINTS}
    assert served == checked
    assert all(template in DOCUMENT["paths"] for _, template in served)
