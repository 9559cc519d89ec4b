"""Documents and request bodies that used to cost a second of CPU, run the wrong operation,
fail as internal errors or answer 500: each class is refused with a code, over HTTP and
WebSocket alike (AUTH-02, CRED-03: no trace, no 5xx)."""

from __future__ import annotations

import time

import httpx
import pytest

from schema import limits
from tests.fixtures.server import (
    GraphQLWebSocket,
    RunningServer,
    errors_of,
    signed_up_user,
    unique_email,
)

TOO_MANY = "selects too many fields"


def _many(unit: str, count: int) -> str:
    return " ".join([unit] * count)


def _exponential_fragments(depth: int) -> str:
    """Each fragment spreads the one below twice: 300 tokens that expand to 2**depth fields."""
    fragments = ["fragment F0 on User { id email }"]
    fragments += [f"fragment F{n} on User {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, depth)]
    return f"{{ me {{ ...F{depth - 1} }} }} " + " ".join(fragments)


COSTLY = {
    # valid documents, each of which took a second or more of validation CPU
    "one field repeated": "{ " + _many("me{id}", 245) + " " + _many("me{email}", 245) + " }",
    "aliases and repetition": "{ "
    + " ".join(f"a{n}: me {{ id }}" for n in range(limits.MAX_ALIASES))
    + " "
    + _many("me{id}", 200)
    + " }",
    "fragments spread many times": "{ "
    + _many("me { ...U }", 30)
    + " } fragment U on User { "
    + _many("id", 20)
    + " }",
    "exponential fragments": _exponential_fragments(30),
}


@pytest.mark.parametrize("shape", sorted(COSTLY))
def test_costly_documents_are_refused_before_validation_AUTH_02(
    server: RunningServer, shape: str
) -> None:
    # a changing comment: no parser or validation cache helps
    document = f"# {time.monotonic_ns()}\n{COSTLY[shape]}"
    started = time.monotonic()
    response = server.gql(document)
    assert errors_of(response) == ["GRAPHQL_VALIDATION_FAILED"], response
    assert TOO_MANY in response["errors"][0]["message"]
    assert time.monotonic() - started < 0.5  # the exponential one never finished before


def test_the_pwa_sized_documents_still_run_AUTH_02(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("wide"))
    at_the_limit = "{ " + _many("me { id email }", limits.MAX_SELECTIONS_PER_SET) + " }"
    assert server.gql(at_the_limit, token=token)["data"]["me"]["id"]
    over = "{ " + _many("me { id }", limits.MAX_SELECTIONS_PER_SET + 1) + " }"
    assert TOO_MANY in server.gql(over, token=token)["errors"][0]["message"]


async def test_costly_subscriptions_are_refused_on_a_websocket_too_AUTH_02(
    server: RunningServer,
) -> None:
    token = signed_up_user(server, unique_email("ws"))
    document = "subscription { sessionEvents { " + _many("user { id }", 400) + " } }"
    async with GraphQLWebSocket.connect(server, token=token) as ws:
        operation = await ws.subscribe(document)
        message = await ws.receive()
    assert message["id"] == operation and message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert TOO_MANY in message["payload"][0]["message"]


def test_several_operations_need_an_operation_name(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("ops"))
    for document in (
        "query A { me { id } } query B { __typename }",
        "query A { me { id } } mutation B { signOut }",  # the first used to run
    ):
        response = server.gql(document, token=token)
        assert errors_of(response) == ["GRAPHQL_VALIDATION_FAILED"], response
        assert "operationName" in response["errors"][0]["message"]
        assert response["data"] is None
    named = httpx.post(
        server.graphql_url,
        json={"query": "query A { me { id } } query B { __typename }", "operationName": "B"},
        headers={"authorization": f"Bearer {token}"},
    ).json()
    assert named == {"data": {"__typename": "Query"}}
    assert server.gql("{ me { id } }", token=token)["data"]["me"]["id"]  # session kept


def test_a_subscription_over_http_is_a_bad_request(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("sub"))
    for document in (
        "subscription { sessionEvents { user { id } } }",
        "subscription S { activeAccountChanged { id } }",
    ):
        response = server.gql(document, token=token)
        assert errors_of(response) == ["BAD_REQUEST"], response
        assert "WebSocket" in response["errors"][0]["message"]


@pytest.mark.parametrize(
    "body",
    [b"null", b"1", b'"x"', b"true", b"[]", b"{}", b"{not json", b"\xff\xfe", b'{"query": 5}']
    + [
        b'{"query": "{ me { id } }", "%s": %s}' % (name, value)
        for name in (b"variables", b"operationName", b"extensions")
        for value in (b"1", b"[]", b"true")
    ],
)
def test_a_body_that_is_no_graphql_request_is_a_400_with_a_code(
    server: RunningServer, body: bytes
) -> None:
    response = httpx.post(
        server.graphql_url, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]
    assert "server" not in response.headers
    assert "Traceback" not in server.log_text()


def test_bad_variable_values_are_bad_user_input_in_plain_words(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("vars"))
    cases: list[tuple[str, dict[str, object], str]] = [
        ("query($id: UUID!) { account(id: $id) { id } }", {"id": "nope"}, "must be a UUID"),
        ("query($id: UUID!) { account(id: $id) { id } }", {"id": 7}, "must be a UUID"),
        ("query($id: UUID!) { account(id: $id) { id } }", {}, "to be provided"),
        ("query($l: Int!) { orders(limit: $l) { id } }", {"l": "x"}, "Int"),
        (
            "query($s: OrderStatusFilter!) { orders(status: $s) { id } }",
            {"s": "OPENN"},
            "OrderStatusFilter",
        ),
    ]
    for document, variables, wording in cases:
        response = server.gql(document, variables, token=token)
        assert errors_of(response) == ["BAD_USER_INPUT"], response
        message = response["errors"][0]["message"]
        assert wording in message and "hexadecimal" not in message, message
    literal = server.gql('{ account(id: "nope") { id } }', token=token)
    assert errors_of(literal) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "must be a UUID" in literal["errors"][0]["message"]
    # a variable the document never uses is the document's fault, not the input's
    unused = server.gql("query($x: Int) { me { id } }", token=token)
    assert errors_of(unused) == ["GRAPHQL_VALIDATION_FAILED"]
