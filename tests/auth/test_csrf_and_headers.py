"""AUTH-04: no CSRF or cross-site WebSocket hijacking; security headers everywhere."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.fixtures.server import (
    REPO,
    GraphQLWebSocket,
    RunningServer,
    signed_up_user,
    unique_email,
)

FOREIGN = "https://evil.example"
ME = {"query": "{ me { email } }"}


def test_cookie_request_from_a_foreign_origin_is_refused_AUTH_04(server: RunningServer) -> None:
    email = unique_email("a")
    token = signed_up_user(server, email)
    cookies = {"alpaca_chat_session": token}
    refused = httpx.post(server.graphql_url, json=ME, cookies=cookies, headers={"origin": FOREIGN})
    assert refused.status_code == 403
    own = httpx.post(server.graphql_url, json=ME, cookies=cookies, headers={"origin": server.url})
    assert own.json()["data"]["me"]["email"] == email
    # a bearer client from anywhere is unaffected: it carries no ambient credential
    bearer = httpx.post(
        server.graphql_url,
        json=ME,
        headers={"origin": FOREIGN, "authorization": f"Bearer {token}"},
    )
    assert bearer.json()["data"]["me"]["email"] == email


def test_allowed_origins_setting_admits_another_origin_AUTH_04(start_server) -> None:
    server = start_server(env={"ALLOWED_ORIGINS": "https://app.example"})
    token = signed_up_user(server, "a@example.com")
    cookies = {"alpaca_chat_session": token}
    ok = httpx.post(
        server.graphql_url, json=ME, cookies=cookies, headers={"origin": "https://app.example"}
    )
    assert ok.json()["data"]["me"]["email"] == "a@example.com"
    refused = httpx.post(server.graphql_url, json=ME, cookies=cookies, headers={"origin": FOREIGN})
    assert refused.status_code == 403


async def test_websocket_with_cookie_from_a_foreign_origin_is_refused_AUTH_04(
    server: RunningServer,
) -> None:
    token = signed_up_user(server, unique_email("a"))
    with pytest.raises(InvalidStatus) as refused:
        async with GraphQLWebSocket.connect(
            server, cookies={"alpaca_chat_session": token}, origin=FOREIGN
        ):
            pass
    assert refused.value.response.status_code == 403
    # same origin with the cookie, and a foreign origin with a bearer token, are fine
    async with GraphQLWebSocket.connect(
        server, cookies={"alpaca_chat_session": token}, origin=server.url
    ):
        pass
    async with GraphQLWebSocket.connect(server, token=token, origin=FOREIGN):
        pass


def test_no_operation_over_get_AUTH_04(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("a"))
    cookies = {"alpaca_chat_session": token}
    for query in ("mutation { createInvite { code } }", "{ me { email } }"):
        response = httpx.get(server.graphql_url, params={"query": query}, cookies=cookies)
        assert response.status_code in (400, 405)
        assert "createInvite" not in response.text


def test_form_posts_and_other_content_types_are_refused_AUTH_04(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("a"))
    cookies = {"alpaca_chat_session": token}
    form = httpx.post(server.graphql_url, data={"query": "mutation { signOut }"}, cookies=cookies)
    assert form.status_code == 415
    for content_type in ("text/plain", "multipart/form-data; boundary=x", "application/graphql"):
        response = httpx.post(
            server.graphql_url,
            content=b'{"query": "mutation { signOut }"}',
            headers={"content-type": content_type},
            cookies=cookies,
        )
        assert response.status_code == 415
    assert server.gql("{ me { email } }", token=token)["data"]["me"]  # still signed in


def test_large_bodies_are_refused_with_413(server: RunningServer) -> None:
    padding = "x" * (65 * 1024)
    response = httpx.post(server.graphql_url, json={"query": "{ me { email } }", "pad": padding})
    assert response.status_code == 413

    def chunks():
        yield b'{"query": "{ me { email } }", "pad": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    chunked = httpx.post(
        server.graphql_url, content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413


def test_security_headers_on_every_response(server: RunningServer) -> None:
    responses = [
        httpx.get(server.url + "/healthz"),
        httpx.post(server.graphql_url, json=ME),
        httpx.get(server.url + "/"),
        httpx.get(server.url + "/no-such-file"),
    ]
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert responses[1].headers["cache-control"] == "no-store"


def test_graphiql_page_has_its_own_policy_and_can_be_switched_off(
    server: RunningServer, start_server
) -> None:
    page = httpx.get(server.graphql_url, headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert "https://unpkg.com" in page.headers["content-security-policy"]
    assert "unsafe-eval" not in page.headers["content-security-policy"]
    off = start_server(env={"GRAPHIQL": "false"})
    assert httpx.get(off.graphql_url, headers={"accept": "text/html"}).status_code == 404
    suggestion = off.gql("{ mee { email } }")
    assert "Did you mean" not in suggestion["errors"][0]["message"]


def test_pwa_and_service_worker_are_served(server: RunningServer) -> None:
    """MOB-04: the shell and its service worker, byte for byte; the worker always revalidated."""
    index = httpx.get(server.url + "/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert index.content == (REPO / "pwa" / "index.html").read_bytes()
    sw = httpx.get(server.url + "/sw.js")
    assert sw.status_code == 200
    assert sw.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert sw.content == (REPO / "pwa" / "sw.js").read_bytes()
    assert sw.headers["cache-control"] == "no-cache"
