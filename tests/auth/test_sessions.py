"""AUTH-03: opaque tokens stored as hashes; bearer and cookie; sign-out ends everything."""

from __future__ import annotations

import asyncio
import hashlib
import time
from uuid import uuid4

import asyncpg
import httpx
import pytest

from tests.fixtures.server import (
    PASSWORD,
    SIGN_UP,
    GraphQLWebSocket,
    RunningServer,
    StartServer,
    errors_of,
    invite_code,
    signed_up_user,
    unique_email,
)

ME = "{ me { email } }"
SESSION_EVENTS = "subscription { sessionEvents { user { email } } }"


def test_bearer_and_cookie_both_authenticate_AUTH_03(server: RunningServer) -> None:
    email = unique_email("a")
    with httpx.Client() as client:
        response = client.post(
            server.graphql_url,
            json={
                "query": SIGN_UP,
                "variables": {
                    "email": email,
                    "password": PASSWORD,
                    "inviteCode": invite_code(server),
                },
            },
        )
        cookie = response.headers["set-cookie"]
        assert "alpaca_chat_session=" in cookie
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http here; https requests get Secure
        token = response.json()["data"]["signUp"]["token"]
        # the client's cookie jar now holds the cookie
        assert client.post(server.graphql_url, json={"query": ME}).json()["data"]["me"]
    assert server.gql(ME, token=token)["data"]["me"]["email"] == email
    cookies = {"alpaca_chat_session": token}
    assert server.gql(ME, cookies=cookies)["data"]["me"]["email"] == email
    assert server.gql(ME, token="not-a-token")["data"]["me"] is None


def test_secure_cookie_behind_https_proxy_AUTH_03(start_server: StartServer) -> None:
    # the proxy's headers are believed only from the proxies named (README, "Limits")
    server = start_server(env={"FORWARDED_ALLOW_IPS": "127.0.0.1"})
    signed_up_user(server, unique_email("first"))
    email, code = unique_email("a"), invite_code(server)
    variables = {"email": email, "password": PASSWORD, "inviteCode": code}
    response = httpx.post(
        server.graphql_url,
        json={"query": SIGN_UP, "variables": variables},
        headers={"x-forwarded-proto": "https"},
    )
    assert "Secure" in response.headers["set-cookie"]


async def test_only_the_token_hash_is_stored_AUTH_03(
    server: RunningServer, owner: asyncpg.Connection
) -> None:
    email = unique_email("a")
    token = signed_up_user(server, email)
    secret = token.split(".", 1)[1]
    stored = await owner.fetchval(
        "select s.token_hash from app.sessions s join app.users u on u.id = s.user_id"
        " where u.email = $1",
        email,
    )
    assert stored == hashlib.sha256(secret.encode()).digest()
    dump = await owner.fetchval("select string_agg(s::text, ',') from app.sessions s")
    assert secret not in dump


async def test_sign_out_rejects_the_token_and_closes_its_subscriptions_AUTH_03(
    server: RunningServer,
) -> None:
    email = unique_email("a")
    token = signed_up_user(server, email)
    other = server.gql(
        "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }",
        {"e": email, "p": PASSWORD},
    )["data"]["signIn"]["token"]
    async with GraphQLWebSocket.connect(server, token=token) as ws:
        await ws.subscribe(SESSION_EVENTS)
        first = await ws.receive()
        assert first["payload"]["data"]["sessionEvents"]["user"]["email"] == email
        response = await server.agql("mutation { signOut }", token=token)
        assert response["data"]["signOut"] is True
        started = time.monotonic()
        assert await ws.wait_closed(seconds=1.5) == 4401
        assert time.monotonic() - started < 1.0
    assert server.gql(ME, token=token)["data"]["me"] is None
    assert errors_of(server.gql("mutation { createInvite { code } }", token=token)) == [
        "UNAUTHENTICATED"
    ]
    # the user's other session lives on
    assert server.gql(ME, token=other)["data"]["me"]["email"] == email


def test_a_token_naming_another_session_is_refused_AUTH_03(server: RunningServer) -> None:
    """AUTH-03: the session id half of a token must be the session its secret belongs to:
    the right secret with another session's id, or a random one, authenticates as nobody
    and signs nobody out."""
    email = unique_email("a")
    token = signed_up_user(server, email)
    second_session = server.gql(
        "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }",
        {"e": email, "p": PASSWORD},
    )["data"]["signIn"]["token"]
    stranger_email = unique_email("b")
    stranger = signed_up_user(server, stranger_email)
    secret = token.split(".", 1)[1]
    for session_hex in (second_session.split(".")[0], stranger.split(".")[0], uuid4().hex):
        forged = f"{session_hex}.{secret}"
        assert server.gql(ME, token=forged)["data"]["me"] is None
        assert server.gql("mutation { signOut }", token=forged)["data"]["signOut"] is False
    for real, owner in ((token, email), (second_session, email), (stranger, stranger_email)):
        assert server.gql(ME, token=real)["data"]["me"]["email"] == owner


async def test_sign_out_in_another_process_closes_subscriptions_AUTH_03(
    server: RunningServer, start_server: StartServer
) -> None:
    second = start_server(server.database_url)
    token = signed_up_user(server, unique_email("a"))
    async with GraphQLWebSocket.connect(second, token=token) as ws:
        await ws.subscribe(SESSION_EVENTS)
        assert (await ws.receive())["type"] == "next"
        await server.agql("mutation { signOut }", token=token)
        started = time.monotonic()
        assert await ws.wait_closed(seconds=2) == 4401
        assert time.monotonic() - started < 1.0


async def test_websocket_authenticates_by_cookie_AUTH_03(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("a"))
    cookies = {"alpaca_chat_session": token}
    async with GraphQLWebSocket.connect(server, cookies=cookies) as ws:
        await ws.subscribe(SESSION_EVENTS)
        assert (await ws.receive())["payload"]["data"]["sessionEvents"]["user"]["email"]


async def test_unauthenticated_websocket_is_refused_per_operation_AUTH_03(
    server: RunningServer,
) -> None:
    async with GraphQLWebSocket.connect(server) as ws:
        await ws.subscribe(SESSION_EVENTS)
        message = await ws.receive()
        assert message["type"] in ("error", "next")
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
        # public operations still work on it
        await ws.subscribe(ME)
        result = await ws.receive()
        assert result["payload"] == {"data": {"me": None}}


async def test_bad_bearer_in_connection_init_is_refused_AUTH_03(server: RunningServer) -> None:
    async with GraphQLWebSocket.connect(server, token="x" * 20, acknowledge=False) as ws:
        assert await ws.wait_closed() == 4403


async def test_legacy_graphql_ws_protocol_is_not_offered_AUTH_04(server: RunningServer) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    with pytest.raises((InvalidHandshake, ConnectionClosed)):
        async with connect(server.ws_url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
            await ws.send('{"type": "connection_init"}')
            await asyncio.wait_for(ws.recv(), 5)
