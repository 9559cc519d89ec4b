"""AUTH-01: sign-up is invite-only after the first user; invites are one-time and expire."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import asyncpg

from tests.fixtures.postgres import TEST_CREDENTIALS_KEY
from tests.fixtures.server import (
    CREATE_INVITE,
    PASSWORD,
    REPO,
    SIGN_UP,
    RunningServer,
    errors_of,
    signed_up_user,
    unique_email,
)


def sign_up(server: RunningServer, email: str, invite: str | None = None) -> dict:
    return server.gql(SIGN_UP, {"email": email, "password": PASSWORD, "inviteCode": invite})


def invite_from(server: RunningServer, token: str) -> str:
    return server.gql(CREATE_INVITE, token=token)["data"]["createInvite"]["code"]


def test_first_user_needs_no_invite_later_ones_do_AUTH_01(fresh_server: RunningServer) -> None:
    server = fresh_server  # an empty install: nobody has signed up yet
    first = sign_up(server, "  First@Example.COM ")
    assert first["data"]["signUp"]["user"]["email"] == "first@example.com"

    second = sign_up(server, "second@example.com")
    assert errors_of(second) == ["BAD_USER_INPUT"]
    assert second["errors"][0]["extensions"]["field"] == "inviteCode"

    code = invite_from(server, first["data"]["signUp"]["token"])
    assert sign_up(server, "second@example.com", code)["data"]["signUp"]["token"]
    # the same invite again
    again = sign_up(server, "third@example.com", code)
    assert errors_of(again) == ["BAD_USER_INPUT"]


async def test_invite_shape_and_only_hash_stored_AUTH_01(
    server: RunningServer, owner: asyncpg.Connection
) -> None:
    email = unique_email("a")
    token = signed_up_user(server, email)
    invite = server.gql(CREATE_INVITE, token=token)["data"]["createInvite"]
    assert len(invite["code"]) >= 43  # 256 bits, urlsafe
    assert invite["url"] == f"{server.url}/?invite={invite['code']}"
    stored = await owner.fetchval(
        "select array_agg(i.code_hash) from app.invites i join app.users u on u.id = i.created_by"
        " where u.email = $1",
        email,
    )
    assert stored == [hashlib.sha256(invite["code"].encode()).digest()]
    every_invite = await owner.fetchval("select string_agg(i::text, ',') from app.invites i")
    assert invite["code"] not in every_invite


async def test_expired_invite_is_refused_AUTH_01(
    server: RunningServer, owner: asyncpg.Connection
) -> None:
    token = signed_up_user(server, unique_email("a"))
    code = invite_from(server, token)
    await owner.execute(
        "update app.invites set expires_at = now() - interval '1 second' where code_hash = $1",
        hashlib.sha256(code.encode()).digest(),
    )
    response = sign_up(server, unique_email("late"), code)
    assert errors_of(response) == ["BAD_USER_INPUT"]
    assert response["errors"][0]["extensions"]["field"] == "inviteCode"


def test_registered_email_is_refused_like_a_bad_invite_AUTH_01(
    server: RunningServer,
) -> None:
    email = unique_email("a")
    token = signed_up_user(server, email)
    # nobody learns whether an email is registered, not even with a valid invite
    no_invite = sign_up(server, email.capitalize(), "x" * 43)
    assert no_invite["errors"][0]["extensions"]["field"] == "inviteCode"
    code = invite_from(server, token)
    taken = sign_up(server, email.capitalize(), code)
    assert errors_of(taken) == ["BAD_USER_INPUT"]
    assert taken["errors"] == no_invite["errors"]
    # the invite was not spent by the failed attempt
    assert sign_up(server, unique_email("b"), code)["data"]["signUp"]["user"]["email"]


def test_input_is_checked_AUTH_01_AUTH_02(server: RunningServer) -> None:
    bad_email = server.gql(SIGN_UP, {"email": "not-an-email", "password": PASSWORD})
    assert bad_email["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "email"}
    for password in ("short", "x" * 129):
        response = server.gql(SIGN_UP, {"email": "a@example.com", "password": password})
        assert response["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": "password",
        }


def test_cli_invite_prints_a_code_that_signs_up_AUTH_01(server: RunningServer, tmp_path) -> None:
    signed_up_user(server, unique_email("a"))
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "invite"],
        cwd=REPO,
        env={
            **os.environ,
            "DATABASE_URL": server.database_url,
            "CREDENTIALS_KEY": TEST_CREDENTIALS_KEY,
            "ALPACA_CHAT_HOME": str(tmp_path / "cli-home"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    code = result.stdout.strip()
    assert code and "\n" not in code
    assert code not in result.stderr
    assert sign_up(server, unique_email("invited"), code)["data"]["signUp"]["token"]
