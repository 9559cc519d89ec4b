"""Trusted documents answer exactly as any other document does (schema/trusted.py).

The PWA's documents are parsed and validated once, when the schema is built,
and then skip only that work: every extension still runs. Each trusted document
here is sent as listed and as an untrusted twin (the same text with one more
space, so it takes the parse and validation caches), and the answers must
match: data, error codes, masking with the request id (OPS-04, AUTH-04).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from schema import build_schema
from schema.trusted import OPERATIONS_FILE, TrustedDocuments, UntrustworthyDocumentError
from tests.fixtures.answers import comparable
from tests.fixtures.inprocess import InProcessApp

OPERATIONS = {entry["operationName"]: entry["query"] for entry in json.loads(
    OPERATIONS_FILE.read_text()
)}  # fmt: skip


def _twin(query: str) -> str:
    """The same document under another text: not trusted, parsed and validated per cache."""
    return query + " "


def _loaded(path: Path = OPERATIONS_FILE) -> TrustedDocuments:
    trusted = TrustedDocuments()
    trusted.load(build_schema()._schema, hide_suggestions=False, path=path)
    return trusted


def test_every_pwa_document_is_trusted_and_only_by_its_exact_text() -> None:
    trusted = _loaded()
    assert len(trusted) == len(OPERATIONS)
    for query in OPERATIONS.values():
        checked = trusted.checked(query)
        assert checked is not None and checked.validation_errors(
            build_schema()._schema, hide_suggestions=False
        ) == []  # fmt: skip
        assert trusted.checked(_twin(query)) is None


async def test_trusted_and_untrusted_twins_answer_alike(app: InProcessApp) -> None:
    user = await app.sign_up()
    account = await app.add_paper_account(user.token)
    requests: list[tuple[str, dict[str, Any], str | None]] = [
        ("Me", {}, user.token),
        ("Accounts", {}, user.token),
        ("Accounts", {}, None),  # UNAUTHENTICATED
        ("AccountSnapshot", {"id": account.id}, user.token),
        ("AccountSnapshot", {"id": "00000000-0000-4000-8000-000000000000"}, user.token),
        ("AccountSnapshot", {"id": 5}, user.token),  # BAD_USER_INPUT
        ("Positions", {"accountId": account.id}, user.token),
        ("AccountUpdates", {"accountId": account.id}, user.token),  # needs a WebSocket
    ]
    for name, variables, token in requests:
        trusted = await app.gql(OPERATIONS[name], variables, token=token)
        twin = await app.gql(_twin(OPERATIONS[name]), variables, token=token)
        assert comparable(trusted) == comparable(twin), name
    refused = await app.gql(OPERATIONS["AccountUpdates"], {}, token=user.token)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_REQUEST"]


async def test_unexpected_errors_of_a_trusted_document_are_masked_with_the_request_id(
    app: InProcessApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = await app.sign_up()

    async def broken(*args: object) -> list[object]:
        raise RuntimeError("secret detail of a bug")

    monkeypatch.setattr(app.services.accounts, "list", broken)
    with caplog.at_level(logging.ERROR, logger="alpaca_chat.graphql"):
        response = await app.client.post(
            "/graphql",
            json={"query": OPERATIONS["Accounts"]},
            headers={"authorization": f"Bearer {user.token}"},
        )
    assert "secret detail" not in response.text
    (error,) = response.json()["errors"]
    request_id = response.headers["x-request-id"]
    assert error["message"] == "Internal error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ me { nope } }", "Cannot query field"),
        ("{ me { id }", "Syntax Error"),
        ("{ " + "me { id } " * 40 + "}", "too many fields"),
        ("{ __schema { queryType { name } } }", "introspection"),
    ],
)
def test_a_listed_document_that_is_not_valid_stops_start_up(
    tmp_path: Path, query: str, reason: str
) -> None:
    listed = tmp_path / "operations.json"
    digest = hashlib.sha256(query.encode()).hexdigest()
    listed.write_text(json.dumps([{"operationName": "Bad", "sha256": digest, "query": query}]))
    with pytest.raises(UntrustworthyDocumentError, match=reason):
        _loaded(listed)


def test_a_listed_document_whose_hash_does_not_match_stops_start_up(tmp_path: Path) -> None:
    listed = tmp_path / "operations.json"
    entry = {"operationName": "Me", "sha256": "0" * 64, "query": OPERATIONS["Me"]}
    listed.write_text(json.dumps([entry]))
    with pytest.raises(UntrustworthyDocumentError, match="sha256"):
        _loaded(listed)
