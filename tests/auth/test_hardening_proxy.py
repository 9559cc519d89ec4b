"""With no proxy configured, forwarded headers are nobody's word: X-Forwarded-For cannot
escape the per-address limits (AUTH-02), X-Forwarded-Proto earns no HSTS, and the Host
header never lands in a link (AUTH-04)."""

from __future__ import annotations

import httpx

from api.auth.rate_limits import SIGN_IN_FAILURES_PER_ADDRESS
from tests.fixtures.server import (
    CREATE_INVITE,
    RunningServer,
    errors_of,
    signed_up_user,
    unique_email,
)

SIGN_IN = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"


def test_x_forwarded_for_does_not_escape_the_address_limit_AUTH_02(
    fresh_server: RunningServer,
) -> None:
    answers = []
    for n in range(SIGN_IN_FAILURES_PER_ADDRESS.events + 1):
        spoofed = {"x-forwarded-for": f"203.0.113.{n}"}
        variables = {"e": unique_email("spray"), "p": "wrong password!"}
        answers.append(errors_of(fresh_server.gql(SIGN_IN, variables, headers=spoofed)))
    assert answers[:-1] == [["UNAUTHENTICATED"]] * SIGN_IN_FAILURES_PER_ADDRESS.events
    assert answers[-1] == ["RATE_LIMITED"]


def test_forwarded_proto_and_host_are_not_believed_AUTH_04(server: RunningServer) -> None:
    response = httpx.get(server.url + "/healthz", headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in response.headers
    assert "server" not in response.headers
    signed_up_user(server, unique_email("host"))
    invite = server.gql(CREATE_INVITE, token=server.inviter_token, headers={"host": "evil.example"})
    assert invite["data"]["createInvite"]["url"].startswith(server.url + "/?invite=")
