"""The auth domain in-process: me, signUp, signIn, signOut, createInvite, sessionEvents.

AUTH-01 (invite-only sign-up), AUTH-02 (one answer for wrong passwords),
AUTH-03 (sign-out ends the session, its subscriptions included).
"""

from __future__ import annotations

from api.auth.websockets import CLOSE_CODE_SESSION_ENDED
from tests.fixtures.inprocess import InProcessApp, codes
from tests.fixtures.server import PASSWORD

ME = "{ me { id email createdAt } }"
SIGN_UP = """mutation($email: String!, $password: String!, $code: String) {
  signUp(email: $email, password: $password, inviteCode: $code) { token user { id email } } }"""
SIGN_IN = """mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token user { email } } }"""
SIGN_OUT = "mutation { signOut }"
CREATE_INVITE = "mutation { createInvite { code url expiresAt } }"
SESSION_EVENTS = "subscription { sessionEvents { user { email } } }"


async def test_me_is_the_signed_in_user_and_null_when_signed_out(app: InProcessApp) -> None:
    alice = await app.sign_up("alice@example.com")
    assert (await app.data(ME, token=alice.token))["me"]["email"] == "alice@example.com"
    assert await app.gql(ME) == {"data": {"me": None}}


async def test_auth01_first_user_signs_up_freely_later_ones_need_an_invite(
    app: InProcessApp,
) -> None:
    first = await app.data(SIGN_UP, {"email": "first@example.com", "password": PASSWORD})
    token = first["signUp"]["token"]
    assert (await app.data(ME, token=token))["me"]["id"] == first["signUp"]["user"]["id"]

    uninvited = await app.gql(SIGN_UP, {"email": "second@example.com", "password": PASSWORD})
    assert codes(uninvited) == ["BAD_USER_INPUT"]
    short = await app.gql(SIGN_UP, {"email": "third@example.com", "password": "short"})
    assert codes(short) == ["BAD_USER_INPUT"]
    assert short["errors"][0]["extensions"]["field"] == "password"


async def test_auth01_an_invite_admits_one_person_once(app: InProcessApp) -> None:
    inviter = await app.sign_up()
    invite = (await app.data(CREATE_INVITE, token=inviter.token))["createInvite"]
    assert invite["url"] == f"http://testserver/?invite={invite['code']}"
    variables = {"email": "guest@example.com", "password": PASSWORD, "code": invite["code"]}
    assert (await app.data(SIGN_UP, variables))["signUp"]["user"]["email"] == "guest@example.com"
    again = await app.gql(SIGN_UP, {**variables, "email": "guest2@example.com"})
    assert codes(again) == ["BAD_USER_INPUT"]


async def test_create_invite_needs_a_session(app: InProcessApp) -> None:
    refused = await app.gql(CREATE_INVITE)
    assert codes(refused) == ["UNAUTHENTICATED"] and refused["data"] is None


async def test_auth02_sign_in_opens_a_session_and_wrong_passwords_are_unauthenticated(
    app: InProcessApp,
) -> None:
    await app.sign_up("bob@example.com")
    signed_in = await app.data(SIGN_IN, {"email": "bob@example.com", "password": PASSWORD})
    token = signed_in["signIn"]["token"]
    assert (await app.data(ME, token=token))["me"]["email"] == "bob@example.com"
    wrong = await app.gql(SIGN_IN, {"email": "bob@example.com", "password": "not the password"})
    unknown = await app.gql(SIGN_IN, {"email": "nobody@example.com", "password": PASSWORD})
    assert codes(wrong) == codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


async def test_auth03_sign_out_ends_the_session_and_is_false_without_one(
    app: InProcessApp,
) -> None:
    carol = await app.sign_up()
    other_device = (await app.data(SIGN_IN, {"email": carol.email, "password": PASSWORD}))[
        "signIn"
    ]["token"]
    assert await app.data(SIGN_OUT, token=carol.token) == {"signOut": True}
    assert await app.gql(ME, token=carol.token) == {"data": {"me": None}}
    assert codes(await app.gql(CREATE_INVITE, token=carol.token)) == ["UNAUTHENTICATED"]
    assert (await app.data(ME, token=other_device))["me"]["email"] == carol.email
    assert await app.data(SIGN_OUT) == {"signOut": False}


async def test_auth03_session_events_yield_the_user_until_sign_out_closes_with_4401(
    app: InProcessApp,
) -> None:
    dave = await app.sign_up("dave@example.com")
    async with app.subscription(SESSION_EVENTS, token=dave.token) as events:
        first = await events.next()
        assert first.errors is None
        assert first.data == {"sessionEvents": {"user": {"email": "dave@example.com"}}}
        assert events.close_code is None
        await app.data(SIGN_OUT, token=dave.token)
        assert events.close_code == CLOSE_CODE_SESSION_ENDED


async def test_session_events_refuse_a_signed_out_subscriber(app: InProcessApp) -> None:
    async with app.subscription(SESSION_EVENTS) as events:
        refused = await events.next()
        assert refused.data is None
        assert [e.extensions for e in refused.errors or []] == [{"code": "UNAUTHENTICATED"}]
        assert await events.until_ended() == []
