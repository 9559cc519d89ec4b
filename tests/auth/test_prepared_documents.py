"""`/graphql` answers a prepared document exactly as Strawberry's own path does.

The endpoint runs already-validated documents on graphql-core directly
(schema/endpoint.py, schema/documents.py). Each request here is sent twice,
through that path and with it switched off, and the answers must match:
data, error codes, masking with the request id, headers and cookies. In
process (httpx's ASGI transport), so a failure can be injected into a service.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from api.app import create_app
from api.config import Settings
from api.db import Database
from api.services import Services
from api.vault import Vault
from schema.endpoint import GraphQLEndpoint
from tests.fixtures.tenants import fake_credentials, store_account

PATHS = ("prepared", "strawberry")


@pytest.fixture
async def services(settings: Settings, db: Database) -> Services:
    return Services.build(settings, db)


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _strawberry_only(monkeypatch: pytest.MonkeyPatch) -> None:
    async def never(*args: object) -> bool:
        return False

    monkeypatch.setattr(GraphQLEndpoint, "_execute_prepared", never)


@pytest.fixture
def prepared_runs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each request took the prepared path (so the comparisons compare something)."""
    runs: list[bool] = []
    original = GraphQLEndpoint._execute_prepared

    async def spy(self: GraphQLEndpoint, *args: Any) -> bool:
        runs.append(await original(self, *args))
        return runs[-1]

    monkeypatch.setattr(GraphQLEndpoint, "_execute_prepared", spy)
    return runs


async def _both(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any], **kw: Any
) -> list[httpx.Response]:
    """The answer through the prepared path if it takes the request, then Strawberry's."""
    answers = [await client.post("/graphql", json=body, **kw)]
    with monkeypatch.context() as patch:
        _strawberry_only(patch)
        answers.append(await client.post("/graphql", json=body, **kw))
    return answers


def _without_request_ids(payload: Any) -> Any:
    if isinstance(payload, dict):
        return {k: _without_request_ids(v) for k, v in payload.items() if k != "requestId"}
    if isinstance(payload, list):
        return [_without_request_ids(v) for v in payload]
    return payload


async def _sign_up(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/graphql",
        json={
            "query": 'mutation { signUp(email: "p@example.com", password: "correct horse battery")'
            " { token } }"
        },
    )
    return response.json()["data"]["signUp"]["token"]


async def test_the_same_answers_through_both_paths(
    client: httpx.AsyncClient,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    prepared_runs: list[bool],
) -> None:
    token = await _sign_up(client)
    me = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=_bearer(token))
    user_id = me.json()["data"]["me"]["id"]
    vault = Vault(services.settings.credentials_keys)
    await store_account(services.database, vault, UUID(user_id), *fake_credentials())
    # (body, bearer token, taken by the prepared path)
    documents: list[tuple[dict[str, Any], str | None, bool | None]] = [
        (
            {"query": "{ accounts { id nickname environment keyHint isActive createdAt } }"},
            token,
            True,
        ),
        ({"query": "{ accounts { id } }"}, None, True),  # UNAUTHENTICATED
        (
            {"query": "query A { me { id } } query B { accounts { id } }", "operationName": "B"},
            token,
            True,
        ),
        ({"query": "query A { me { id } } query B { me { email } }"}, token, False),  # which? 400
        (
            {"query": "query($id: UUID!) { account(id: $id) { id } }", "variables": {"id": 5}},
            token,
            True,
        ),
        (
            {
                "query": "query($id: UUID!) { account(id: $id) { id } }",
                "variables": {"id": "00000000-0000-4000-8000-000000000000"},
            },
            token,
            True,
        ),  # NOT_FOUND
        ({"query": "{ me { nope } }"}, token, False),
        ({"query": "{ me { id }"}, token, False),
        ({"query": "{ " + "__typename " * 2100 + "}"}, token, False),
        ({"query": "{ " + "me { id } " * 30 + "}"}, token, True),  # merged, no aliases
        ({"query": "{ " + "me { id } " * 40 + "}"}, token, False),  # too many (schema/cost.py)
        ({"query": "subscription { sessionEvents { user { id } } }"}, token, False),
        ({"query": "{ me { id } }", "variables": [1]}, token, None),  # 400 before either
        ({"query": "{ me { id } }", "extensions": {"tag": 1}}, token, True),
    ]
    for body, auth, fast in documents:
        prepared_runs.clear()
        prepared, strawberry = await _both(client, monkeypatch, body, headers=_bearer(auth))
        assert prepared_runs == ([] if fast is None else [fast]), body
        assert prepared.status_code == strawberry.status_code, body
        assert prepared.headers.get("cache-control") == strawberry.headers.get("cache-control")
        assert ("x-request-id" in prepared.headers) == ("x-request-id" in strawberry.headers)
        if prepared.headers.get("content-type") == "application/json":
            assert _without_request_ids(prepared.json()) == _without_request_ids(
                strawberry.json()
            ), body
        else:
            assert prepared.text == strawberry.text, body


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    client: httpx.AsyncClient,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    prepared_runs: list[bool],
) -> None:
    token = await _sign_up(client)

    async def broken(*args: object) -> list[object]:
        raise RuntimeError("secret detail of a bug")

    monkeypatch.setattr(services.accounts, "list", broken)
    with caplog.at_level(logging.ERROR, logger="alpaca_chat.graphql"):
        answers = await _both(
            client, monkeypatch, {"query": "{ accounts { id } }"}, headers=_bearer(token)
        )
    assert prepared_runs[-1:] == [True]
    for response in answers:
        assert "secret detail" not in response.text
        (error,) = response.json()["errors"]
        request_id = response.headers["x-request-id"]
        assert error["message"] == "Internal error"
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        logged = [r for r in caplog.records if request_id in r.getMessage()]
        assert logged and logged[0].exc_info is not None


async def test_a_mutation_sets_the_session_cookie_through_both_paths(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, prepared_runs: list[bool]
) -> None:
    await _sign_up(client)
    sign_in = {
        "query": 'mutation { signIn(email: "p@example.com", password: "correct horse battery")'
        " { user { email } } }"
    }
    for response in await _both(client, monkeypatch, sign_in):
        assert response.json()["data"]["signIn"]["user"]["email"] == "p@example.com"
        assert response.cookies.get("alpaca_chat_session")
        assert response.headers["cache-control"] == "no-store"
    assert prepared_runs[-1:] == [True]


def _bearer(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}
