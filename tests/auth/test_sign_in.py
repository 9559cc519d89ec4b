"""AUTH-02: argon2id hashes; one answer for wrong password and unknown email; rate limits."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from api.auth.rate_limits import SIGN_IN_FAILURES_PER_EMAIL
from tests.fixtures.server import (
    PASSWORD,
    RunningServer,
    StartServer,
    errors_of,
    signed_up_user,
    unique_email,
)

SIGN_IN = """
mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token user { email } }
}"""


def sign_in(server: RunningServer, email: str, password: str) -> dict:
    return server.gql(SIGN_IN, {"email": email, "password": password})


async def test_passwords_are_stored_as_argon2id_AUTH_02(
    server: RunningServer, owner: asyncpg.Connection
) -> None:
    email = unique_email("a")
    signed_up_user(server, email)
    stored = await owner.fetchval("select password_hash from app.users where email = $1", email)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_sign_in_returns_a_working_token_AUTH_02(server: RunningServer) -> None:
    email = unique_email("a")
    signed_up_user(server, email)
    response = sign_in(server, " " + email.title(), PASSWORD)  # e.g. " A-3@Example.Com"
    token = response["data"]["signIn"]["token"]
    assert server.gql("{ me { email } }", token=token)["data"]["me"]["email"] == email


def test_wrong_password_and_unknown_email_look_alike_AUTH_02(server: RunningServer) -> None:
    email = unique_email("a")
    signed_up_user(server, email)
    sign_in(server, "warm@example.com", "warm-up-password")  # first call pays for imports

    def timed(email: str, password: str) -> tuple[dict, float]:
        started = time.perf_counter()
        response = sign_in(server, email, password)
        return response, time.perf_counter() - started

    wrong, wrong_time = timed(email, "wrong password!")
    unknown, unknown_time = timed("nobody@example.com", "wrong password!")
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert wrong["errors"][0]["extensions"] == unknown["errors"][0]["extensions"]
    assert errors_of(wrong) == ["UNAUTHENTICATED"]
    # both verify an argon2id hash; neither returns early
    assert unknown_time > 0.3 * wrong_time
    assert wrong_time > 0.3 * unknown_time


def test_sixth_rapid_failure_is_rate_limited_AUTH_02(fresh_server: RunningServer) -> None:
    server = fresh_server  # an untouched rate-limit state
    signed_up_user(server, "a@example.com")
    for _ in range(5):
        assert errors_of(sign_in(server, "a@example.com", "wrong password!")) == ["UNAUTHENTICATED"]
    limited = sign_in(server, "a@example.com", PASSWORD)  # even the right password waits
    assert errors_of(limited) == ["RATE_LIMITED"]
    retry_after = limited["errors"][0]["extensions"]["retryAfter"]
    assert isinstance(retry_after, int) and 0 < retry_after <= 300
    # another email from the same address is not locked out by this one
    assert errors_of(sign_in(server, "b@example.com", "wrong password!")) == ["UNAUTHENTICATED"]


def test_failures_per_address_are_limited_AUTH_02(fresh_server: RunningServer) -> None:
    server = fresh_server  # an untouched rate-limit state
    codes = [
        errors_of(sign_in(server, f"user{n}@example.com", "wrong password!"))[0] for n in range(31)
    ]
    assert codes[:30] == ["UNAUTHENTICATED"] * 30
    assert codes[30] == "RATE_LIMITED"


async def test_failures_across_two_instances_share_one_limit_AUTH_02(
    start_server: StartServer,
) -> None:
    """AUTH-02: the counters live in PostgreSQL. Failed sign-ins split between two server
    processes on one database are limited at the same total as on one, a burst of parallel
    guesses gets no more, and the counters hold neither emails nor addresses in clear."""
    first = start_server()
    second = start_server(first.database_url)
    limit = SIGN_IN_FAILURES_PER_EMAIL
    signed_up_user(first, "a@example.com")
    for n in range(limit.events):
        answer = sign_in((first, second)[n % 2], "a@example.com", "wrong password!")
        assert errors_of(answer) == ["UNAUTHENTICATED"]
    for server in (first, second):
        limited = sign_in(server, "a@example.com", PASSWORD)
        assert errors_of(limited) == ["RATE_LIMITED"]
        retry_after = limited["errors"][0]["extensions"]["retryAfter"]
        assert limit.seconds - 60 < retry_after <= limit.seconds

    variables = {"email": "b@example.com", "password": "wrong password!"}
    burst = await asyncio.gather(
        *(server.agql(SIGN_IN, variables) for server in (first, second) * 6)
    )
    codes = sorted(errors_of(answer)[0] for answer in burst)
    assert codes == ["RATE_LIMITED"] * 7 + ["UNAUTHENTICATED"] * limit.events

    conn = await asyncpg.connect(first.database_url)
    try:
        stored = await conn.fetchval("select string_agg(a::text, ',') from app.auth_attempts a")
    finally:
        await conn.close()
    for clear in ("a@example.com", "b@example.com", "127.0.0.1"):
        assert clear not in stored
        assert clear.encode().hex() not in stored
