"""Control characters are refused at the boundary with BAD_USER_INPUT naming the field, never a
database error (CRED-03); such sign-ins count toward the limit (AUTH-02); invites are limited
per user and sign-up tells nobody which emails exist (AUTH-01, AUTH-02)."""

from __future__ import annotations

import asyncpg
import pytest

from api.auth.invites import MAX_UNUSED_INVITES
from api.auth.rate_limits import SIGN_IN_FAILURES_PER_EMAIL
from tests.fixtures.server import (
    CREATE_INVITE,
    PASSWORD,
    SIGN_UP,
    RunningServer,
    errors_of,
    invite_code,
    signed_up_user,
    unique_email,
)

SIGN_IN = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"
RENAME = "mutation($id: UUID!, $n: String!) { renameAccount(id: $id, nickname: $n) { id } }"
CHAT = "mutation($t: String!) { sendChatMessage(text: $t) { reply { text } } }"
CONTROLS = ["\x00", "\x07", "\x1b[2J", "\x7f", "\x85", "\u009b"]


def _refused(response: dict[str, object], field: str) -> None:
    errors = response["errors"]
    assert isinstance(errors, list) and len(errors) == 1, response
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, response


@pytest.mark.parametrize("control", CONTROLS)
def test_sign_up_refuses_control_characters_CRED_03(server: RunningServer, control: str) -> None:
    code = invite_code(server)
    bad_email = {"email": f"a{control}b@example.com", "password": PASSWORD, "inviteCode": code}
    _refused(server.gql(SIGN_UP, bad_email), "email")
    bad_password = {"email": unique_email("pw"), "password": PASSWORD + control, "inviteCode": code}
    _refused(server.gql(SIGN_UP, bad_password), "password")


def test_sign_in_with_control_characters_is_refused_and_counted_AUTH_02(
    fresh_server: RunningServer,
) -> None:
    email = unique_email("nul")
    signed_up_user(fresh_server, email)
    for _ in range(SIGN_IN_FAILURES_PER_EMAIL.events):
        _refused(fresh_server.gql(SIGN_IN, {"e": email + "\x00", "p": PASSWORD}), "email")
    # the same address, now without the NUL, is over its limit of failed attempts
    assert errors_of(fresh_server.gql(SIGN_IN, {"e": email + "\x00", "p": PASSWORD})) == [
        "RATE_LIMITED"
    ]


def test_nicknames_and_chat_text_refuse_control_characters_CRED_03(
    server: RunningServer,
) -> None:
    token = signed_up_user(server, unique_email("texts"))
    for control in CONTROLS:
        # refused before the account is even looked up: no row is half-written
        _refused(
            server.gql(
                RENAME, {"id": "0f8fad5b-d9cb-469f-a165-70867728950e", "n": control}, token=token
            ),
            "nickname",
        )
        _refused(server.gql(CHAT, {"t": f"buy 1 AAPL{control}"}, token=token), "text")
    add = server.gql(
        "mutation($i: AddAccountInput!) { addAccount(input: $i) { id } }",
        {
            "i": {
                "nickname": "main\x00",
                "environment": "PAPER",
                "apiKeyId": "PKTESTNOTREAL",
                "secretKey": "not-a-real-secret",
            }
        },
        token=token,
    )
    _refused(add, "nickname")
    # line breaks and tabs are part of a chat message; they are not refused as such
    chat = server.gql(CHAT, {"t": "hello\n\tthere"}, token=token)
    assert all(e["extensions"].get("field") != "text" for e in chat.get("errors", []))


async def test_invites_are_limited_per_user_AUTH_01(
    server: RunningServer, owner: asyncpg.Connection
) -> None:
    token = signed_up_user(server, unique_email("inviter"))
    for _ in range(MAX_UNUSED_INVITES):
        assert "errors" not in server.gql(CREATE_INVITE, token=token)
    over = server.gql(CREATE_INVITE, token=token)
    assert errors_of(over) == ["RATE_LIMITED"], over
    assert over["errors"][0]["extensions"]["retryAfter"] > 0
    me = server.gql("{ me { id } }", token=token)["data"]["me"]["id"]
    count = await owner.fetchval("select count(*) from app.invites where created_by = $1", me)
    assert count == MAX_UNUSED_INVITES


def test_sign_up_with_a_taken_email_answers_like_a_bad_invite_AUTH_01(
    server: RunningServer,
) -> None:
    email = unique_email("taken")
    signed_up_user(server, email)
    taken = server.gql(
        SIGN_UP, {"email": email, "password": PASSWORD, "inviteCode": invite_code(server)}
    )
    wrong_code = server.gql(
        SIGN_UP, {"email": unique_email("new"), "password": PASSWORD, "inviteCode": "x" * 43}
    )
    assert taken["errors"] == wrong_code["errors"], (taken, wrong_code)
    assert errors_of(taken) == ["BAD_USER_INPUT"]
