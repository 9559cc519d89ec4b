"""A production deployment behind a TLS proxy (GRAPHIQL=false, FORWARDED_ALLOW_IPS naming the
proxy, PUBLIC_ORIGIN): no schema map for strangers, no suggestions, HSTS over https, links
from PUBLIC_ORIGIN, WebSocket origins checked with their scheme (AUTH-04)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from tests.fixtures.server import (
    CREATE_INVITE,
    GraphQLWebSocket,
    RunningServer,
    errors_of,
    serve_shared,
    signed_up_user,
    unique_email,
)

PUBLIC_ORIGIN = "https://chat.example"
BEHIND_TLS = {"x-forwarded-proto": "https"}


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    env = {"GRAPHIQL": "false", "FORWARDED_ALLOW_IPS": "127.0.0.1", "PUBLIC_ORIGIN": PUBLIC_ORIGIN}
    yield from serve_shared(module_database_url, tmp_path_factory.mktemp("prod"), env)


@pytest.mark.parametrize(
    "document",
    [
        "{ __schema { types { name } } }",
        '{ __type(name: "Query") { fields { name } } }',
        "{ ...Q } fragment Q on Query { __schema { queryType { name } } }",
        "query A { me { id } } query B { __schema { types { name } } }",
    ],
)
def test_introspection_is_only_for_signed_in_clients(server: RunningServer, document: str) -> None:
    body = {"query": document, "operationName": "B" if "query B" in document else None}
    anonymous = httpx.post(server.graphql_url, json=body).json()
    assert errors_of(anonymous) == ["GRAPHQL_VALIDATION_FAILED"], anonymous
    assert anonymous["data"] is None
    token = signed_up_user(server, unique_email("intro"))
    signed_in = httpx.post(
        server.graphql_url, json=body, headers={"authorization": f"Bearer {token}"}
    ).json()
    assert "errors" not in signed_in and signed_in["data"], signed_in
    assert server.gql("{ __typename }") == {"data": {"__typename": "Query"}}


def test_no_error_suggests_a_name(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("suggest"))
    documents = [
        ("{ orders(status: OPENN) { id } }", None),
        ("query($s: OrderStatusFilter!) { orders(status: $s) { id } }", {"s": "OPENN"}),
        ("{ mee { id } }", None),
        ("{ me { emal } }", None),
        ("{ orders(limt: 3) { id } }", None),
        ("query($i: PlaceOrderInput!) { me { id } }", {"i": {"symbl": "AAPL"}}),
        ("mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }", {"i": {"symbl": 1}}),
    ]
    for document, variables in documents:
        response = server.gql(document, variables, token=token)
        assert response["errors"], response
        for error in response["errors"]:
            assert "Did you mean" not in error["message"], error


def test_hsts_over_https_only(server: RunningServer) -> None:
    over_tls = httpx.get(server.url + "/healthz", headers=BEHIND_TLS)
    assert over_tls.headers["strict-transport-security"].startswith("max-age=")
    plain = httpx.get(server.url + "/healthz")
    assert "strict-transport-security" not in plain.headers
    assert "server" not in over_tls.headers


def test_invite_links_come_from_public_origin_not_the_host_header(server: RunningServer) -> None:
    signed_up_user(server, unique_email("links"))
    response = server.gql(
        CREATE_INVITE, token=server.inviter_token, headers={"host": "evil.example"}
    )
    assert response["data"]["createInvite"]["url"].startswith(PUBLIC_ORIGIN + "/?invite=")


async def test_a_websocket_from_the_http_origin_is_refused_behind_tls_AUTH_04(
    server: RunningServer,
) -> None:
    token = signed_up_user(server, unique_email("wsorigin"))
    host = server.url.removeprefix("http://")
    cookie = {"cookie": f"alpaca_chat_session={token}", **BEHIND_TLS}
    # same host and port, other scheme: Strawberry's own check let this through
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(
            server.ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers=cookie,
            origin=f"http://{host}",  # type: ignore[arg-type]
        ):
            pass
    assert refused.value.response.status_code == 403
    async with ws_connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=cookie,
        origin=f"https://{host}",  # type: ignore[arg-type]
    ) as connection:
        websocket = GraphQLWebSocket(connection)
        await websocket.send({"type": "connection_init", "payload": {}})
        assert (await websocket.receive())["type"] == "connection_ack"
