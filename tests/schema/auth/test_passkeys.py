"""Passkeys in-process, with answers from a real authenticator (KEY-01..03, AUTH-02, RISK-03).

The GraphQL mutations run in this process; the passkeys are made and used by
Chromium's virtual authenticator in a page opened as http://localhost:<port>
(WebAuthn's secure context), which is the app's PUBLIC_ORIGIN. The browser never
talks to the app: the test hands it the options the app gave and hands the app the
`toJSON()` the browser returned, as the PWA does.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from api.auth.passkeys import PasskeyService, leaves_a_way_in
from api.auth.relying_party import PasskeysOff, RelyingParty, relying_party
from api.config import Settings
from api.db import Database
from api.errors import Forbidden
from tests.fixtures.authenticator import BrowserThread, VirtualAuthenticator, blank_origin
from tests.fixtures.inprocess import (
    AddedAccount,
    InProcessApp,
    SignedInUser,
    codes,
    inprocess_settings,
)
from tests.fixtures.sandbox import SandboxHandle

BEGIN_REGISTRATION = "mutation($p: JSON) { beginPasskeyRegistration(passkey: $p) }"
FINISH_REGISTRATION = """mutation($c: JSON!, $n: String!) {
  finishPasskeyRegistration(credential: $c, name: $n) { id name createdAt lastUsedAt } }"""
BEGIN_SIGN_IN = "mutation { beginPasskeySignIn }"
FINISH_SIGN_IN = """mutation($c: JSON!) {
  finishPasskeySignIn(credential: $c) { token user { id email } } }"""
PASSKEYS = "{ passkeys { id name lastUsedAt } }"
REMOVE = "mutation($id: UUID!, $p: JSON) { removePasskey(id: $id, passkey: $p) }"
ME = "{ me { email } }"
EVENTS = "{ securityEvents { kind detail } }"
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""
CONFIRM = """mutation($p: UUID!, $k: JSON) {
  confirmOrder(proposalId: $p, passkey: $k) { id clientOrderId } }"""
SET_LIMITS = """mutation($a: UUID!, $i: AccountLimitsInput!, $k: JSON) {
  setAccountLimits(accountId: $a, input: $i, passkey: $k) { id } }"""
HALT = "mutation($a: UUID!) { haltAccount(accountId: $a) { id } }"
RESUME = "mutation($a: UUID!, $k: JSON) { resumeAccount(accountId: $a, passkey: $k) { id } }"


@pytest.fixture
def origin() -> Iterator[str]:
    with blank_origin() as url:
        yield url


@pytest.fixture
def app_settings(
    database_url: str, tmp_path: Path, sandbox: SandboxHandle, origin: str
) -> Settings:
    """The app's PUBLIC_ORIGIN is the page the authenticator runs in."""
    settings = inprocess_settings(database_url, tmp_path / "home", sandbox)
    return replace(settings, public_origin=origin)


@pytest.fixture(scope="module")
def chromium() -> Iterator[BrowserThread]:
    """One Chromium for the module; each test's devices are pages of their own."""
    running = BrowserThread()
    yield running
    running.close()


@pytest.fixture
async def device(chromium: BrowserThread, origin: str) -> AsyncIterator[VirtualAuthenticator]:
    """A phone's authenticator."""
    opened = await VirtualAuthenticator.open(chromium, origin)
    yield opened
    await opened.close()


@pytest.fixture
async def laptop(chromium: BrowserThread, origin: str) -> AsyncIterator[VirtualAuthenticator]:
    """A second device, with an authenticator of its own."""
    opened = await VirtualAuthenticator.open(chromium, origin)
    yield opened
    await opened.close()


def reason(response: dict[str, Any]) -> str | None:
    found: str | None = response["errors"][0]["extensions"].get("reason")
    return found


async def register(
    app: InProcessApp, device: VirtualAuthenticator, user: SignedInUser, name: str = "Phone"
) -> dict[str, Any]:
    options = (await app.data(BEGIN_REGISTRATION, token=user.token))["beginPasskeyRegistration"]
    credential = await device.create(options)
    variables = {"c": credential, "n": name}
    added: dict[str, Any] = (await app.data(FINISH_REGISTRATION, variables, token=user.token))[
        "finishPasskeyRegistration"
    ]
    return added


async def sign_in_answer(app: InProcessApp, device: VirtualAuthenticator) -> dict[str, Any]:
    options = (await app.data(BEGIN_SIGN_IN))["beginPasskeySignIn"]
    return await device.get(options)


async def age_sessions(owner: asyncpg.Connection, user: SignedInUser) -> None:
    """The user signed in an hour ago: nothing counts as a fresh sign-in any more."""
    await owner.execute(
        "update app.sessions set created_at = now() - interval '1 hour' where user_id = $1",
        user.id,
    )


async def live_proposal(app: InProcessApp, user: SignedInUser, live: AddedAccount) -> str:
    order = {"accountId": live.id, "symbol": "AAPL", "side": "BUY", "qty": "1"}
    proposed = await app.gql(PLACE, {"input": order}, token=user.token)
    assert codes(proposed) == ["CONFIRMATION_REQUIRED"]
    proposal_id: str = proposed["errors"][0]["extensions"]["proposal"]["id"]
    return proposal_id


async def passkey_options(app: InProcessApp, query: str, variables: dict, token: str) -> dict:
    """The assertion options of the PASSKEY_REQUIRED answer to `query`."""
    refused = await app.gql(query, variables, token=token)
    assert codes(refused) == ["PASSKEY_REQUIRED"], refused
    options: dict[str, Any] = refused["errors"][0]["extensions"]["options"]
    return options


def orders_received(app: InProcessApp, account: AddedAccount) -> int:
    received: int = app.sandbox.stats()[account.keys["account_number"]]["orders_received"]
    return received


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_key01_register_a_passkey_and_sign_in_with_no_email(
    app: InProcessApp, device: VirtualAuthenticator, origin: str
) -> None:
    """KEY-01: a discoverable, user-verified passkey for PUBLIC_ORIGIN's host; signing in
    with it names no email and opens a session like signIn."""
    alice = await app.sign_up("alice@example.com")
    options = (await app.data(BEGIN_REGISTRATION, token=alice.token))["beginPasskeyRegistration"]
    assert options["rp"]["id"] == "localhost"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert len(_unb64(options["challenge"])) == 32
    credential = await device.create(options)
    added = (
        await app.data(FINISH_REGISTRATION, {"c": credential, "n": "Phone"}, token=alice.token)
    )["finishPasskeyRegistration"]
    assert added["name"] == "Phone" and added["lastUsedAt"] is None
    [listed] = (await app.data(PASSKEYS, token=alice.token))["passkeys"]
    assert listed["id"] == added["id"]

    sign_in_options = (await app.data(BEGIN_SIGN_IN))["beginPasskeySignIn"]
    assert sign_in_options["allowCredentials"] == []
    assert sign_in_options["userVerification"] == "required"
    answer = await device.get(sign_in_options)
    response = await app.client.post(
        "/graphql", json={"query": FINISH_SIGN_IN, "variables": {"c": answer}}
    )
    app.client.cookies.clear()
    payload = response.json()["data"]["finishPasskeySignIn"]
    assert payload["user"]["email"] == "alice@example.com"
    assert "alpaca_chat_session=" in response.headers["set-cookie"]
    assert (await app.data(ME, token=payload["token"]))["me"]["email"] == "alice@example.com"
    [used] = (await app.data(PASSKEYS, token=alice.token))["passkeys"]
    assert used["lastUsedAt"] is not None
    kinds = [e["kind"] for e in (await app.data(EVENTS, token=alice.token))["securityEvents"]]
    assert "PASSKEY_ADDED" in kinds


async def test_key01_bad_registrations_are_refused_and_nothing_is_stored(
    app: InProcessApp, device: VirtualAuthenticator, owner: asyncpg.Connection
) -> None:
    """KEY-01: malformed, replayed, unrequested and stale-session registrations are refused."""
    alice = await app.sign_up()
    options = (await app.data(BEGIN_REGISTRATION, token=alice.token))["beginPasskeyRegistration"]
    credential = await device.create(options)
    malformed = await app.gql(
        FINISH_REGISTRATION, {"c": {"id": "x"}, "n": "Phone"}, token=alice.token
    )
    assert codes(malformed) == ["BAD_USER_INPUT"]
    assert codes(
        await app.gql(FINISH_REGISTRATION, {"c": "nope", "n": "P"}, token=alice.token)
    ) == ["BAD_USER_INPUT"]
    unnamed = await app.gql(FINISH_REGISTRATION, {"c": credential, "n": " "}, token=alice.token)
    assert codes(unnamed) == ["BAD_USER_INPUT"]
    await app.data(FINISH_REGISTRATION, {"c": credential, "n": "Phone"}, token=alice.token)
    replayed = await app.gql(
        FINISH_REGISTRATION, {"c": credential, "n": "Again"}, token=alice.token
    )
    assert codes(replayed) == ["FORBIDDEN"] and reason(replayed) == "PASSKEY_CHALLENGE_INVALID"

    # options the server never issued: their challenge is refused
    # (another user handle: a resident passkey of the same handle would replace Alice's)
    forged_user = {**options["user"], "id": _b64(b"forged-user")}
    forged = await device.create(
        {**options, "challenge": _b64(b"\x01" * 32), "user": forged_user, "excludeCredentials": []}
    )
    unrequested = await app.gql(
        FINISH_REGISTRATION, {"c": forged, "n": "Forged"}, token=alice.token
    )
    assert (
        codes(unrequested) == ["FORBIDDEN"] and reason(unrequested) == "PASSKEY_CHALLENGE_INVALID"
    )
    bob = await app.sign_up()
    bobs_options = (await app.data(BEGIN_REGISTRATION, token=bob.token))["beginPasskeyRegistration"]
    bobs = await device.create(bobs_options)
    # a credential made for Bob's challenge cannot be stored as Alice's
    stolen = await app.gql(FINISH_REGISTRATION, {"c": bobs, "n": "Bob's"}, token=alice.token)
    assert codes(stolen) == ["FORBIDDEN"]
    assert len((await app.data(PASSKEYS, token=alice.token))["passkeys"]) == 1

    # a borrowed, old session cannot plant a passkey: it needs a fresh sign-in or a passkey
    carol = await app.sign_up()
    await age_sessions(owner, carol)
    stale = await app.gql(BEGIN_REGISTRATION, token=carol.token)
    assert codes(stale) == ["FORBIDDEN"] and reason(stale) == "FRESH_SIGN_IN_REQUIRED"
    await age_sessions(owner, alice)
    options = await passkey_options(app, BEGIN_REGISTRATION, {}, alice.token)
    approval = await device.get(options)
    second = (await app.data(BEGIN_REGISTRATION, {"p": approval}, token=alice.token))[
        "beginPasskeyRegistration"
    ]
    assert len(second["excludeCredentials"]) == 1


async def test_key01_auth02_bad_passkey_sign_ins_are_refused_and_rate_limited(
    app: InProcessApp, device: VirtualAuthenticator
) -> None:
    """KEY-01, AUTH-02: replayed, unrequested, other-site and unverified answers do not sign
    in; failures count against the client address as password sign-ins do."""
    alice = await app.sign_up()
    await register(app, device, alice)
    answer = await sign_in_answer(app, device)
    assert "errors" not in await app.gql(FINISH_SIGN_IN, {"c": answer})
    replayed = await app.gql(FINISH_SIGN_IN, {"c": answer})
    assert codes(replayed) == ["UNAUTHENTICATED"]

    unrequested = await device.get(
        {"challenge": _b64(b"\x02" * 32), "rpId": "localhost", "userVerification": "required"}
    )
    assert codes(await app.gql(FINISH_SIGN_IN, {"c": unrequested})) == ["UNAUTHENTICATED"]
    assert codes(await app.gql(FINISH_SIGN_IN, {"c": {"type": "public-key"}})) == ["BAD_USER_INPUT"]

    # the same passkey (rp id "localhost") used from another origin: refused by origin
    with blank_origin() as elsewhere:
        options = (await app.data(BEGIN_SIGN_IN))["beginPasskeySignIn"]
        await device.goto(elsewhere)
        other_site = await device.get(options)
        await device.goto(app.services.settings.public_origin or "")
    refused = await app.gql(FINISH_SIGN_IN, {"c": other_site})
    assert (
        codes(refused) == ["UNAUTHENTICATED"] and "another site" in refused["errors"][0]["message"]
    )

    # user verification absent (the device skipped it): refused
    await device.user_verified(False)
    options = (await app.data(BEGIN_SIGN_IN))["beginPasskeySignIn"]
    unverified = await device.get({**options, "userVerification": "discouraged"})
    await device.user_verified(True)
    refused = await app.gql(FINISH_SIGN_IN, {"c": unverified})
    assert codes(refused) == ["UNAUTHENTICATED"] and "verify" in refused["errors"][0]["message"]

    for _ in range(30):
        if codes(await app.gql(FINISH_SIGN_IN, {"c": {"bad": True}})) == ["RATE_LIMITED"]:
            break
    good = await sign_in_answer(app, device)
    limited = await app.gql(FINISH_SIGN_IN, {"c": good})
    assert codes(limited) == ["RATE_LIMITED"]
    assert limited["errors"][0]["extensions"]["retryAfter"] >= 1


async def test_key02_trade02_a_live_order_is_confirmed_with_the_passkey_only(
    app: InProcessApp, device: VirtualAuthenticator, owner: asyncpg.Connection
) -> None:
    """KEY-02, TRADE-02: PASSKEY_REQUIRED with options bound to the proposal; a missing,
    unverified, foreign, replayed, expired or other-proposal answer sends nothing."""
    alice = await app.sign_up()
    await register(app, device, alice)
    live = await app.add_paper_account(alice.token, "Live", environment="LIVE")
    first = await live_proposal(app, alice, live)
    second = await live_proposal(app, alice, live)

    options = await passkey_options(app, CONFIRM, {"p": first}, alice.token)
    assert options["userVerification"] == "required" and len(options["allowCredentials"]) == 1
    other_options = await passkey_options(app, CONFIRM, {"p": second}, alice.token)
    assert other_options["challenge"] != options["challenge"]
    for_second = await device.get(other_options)
    wrong = await app.gql(CONFIRM, {"p": first, "k": for_second}, token=alice.token)
    assert codes(wrong) == ["FORBIDDEN"] and reason(wrong) == "PASSKEY_WRONG_SUBJECT"

    await device.user_verified(False)
    unverified = await device.get({**options, "userVerification": "discouraged"})
    await device.user_verified(True)
    refused = await app.gql(CONFIRM, {"p": first, "k": unverified}, token=alice.token)
    assert codes(refused) == ["FORBIDDEN"] and reason(refused) == "PASSKEY_USER_NOT_VERIFIED"
    assert codes(await app.gql(CONFIRM, {"p": first, "k": {"x": 1}}, token=alice.token)) == [
        "BAD_USER_INPUT"
    ]

    # Bob's passkey (on the same device) answering Alice's challenge
    bob = await app.sign_up()
    bobs = await register(app, device, bob, "Bob's phone")
    assert bobs["id"]
    options = await passkey_options(app, CONFIRM, {"p": first}, alice.token)
    # DevTools sends binary fields in standard base64
    [bobs_id] = [
        base64.b64decode(c["credentialId"])
        for c in await device.credentials()
        if base64.b64decode(c.get("userHandle", "")) == UUID(bob.id).bytes
    ]
    only_bobs = [{"type": "public-key", "id": _b64(bobs_id)}]
    foreign = await device.get({**options, "allowCredentials": only_bobs})
    refused = await app.gql(CONFIRM, {"p": first, "k": foreign}, token=alice.token)
    assert codes(refused) == ["FORBIDDEN"] and reason(refused) == "PASSKEY_UNKNOWN"
    assert orders_received(app, live) == 0

    options = await passkey_options(app, CONFIRM, {"p": first}, alice.token)
    answer = await device.get(options)
    order = (await app.data(CONFIRM, {"p": first, "k": answer}, token=alice.token))["confirmOrder"]
    assert order["clientOrderId"] == first
    assert orders_received(app, live) == 1
    replayed = await app.gql(CONFIRM, {"p": second, "k": answer}, token=alice.token)
    assert codes(replayed) == ["FORBIDDEN"] and reason(replayed) == "PASSKEY_CHALLENGE_INVALID"

    options = await passkey_options(app, CONFIRM, {"p": second}, alice.token)
    answer = await device.get(options)
    await owner.execute(
        "update app.passkey_challenges set expires_at = now() - interval '1 second'"
        " where owner_id = $1",
        alice.id,
    )
    expired = await app.gql(CONFIRM, {"p": second, "k": answer}, token=alice.token)
    assert codes(expired) == ["FORBIDDEN"] and reason(expired) == "PASSKEY_CHALLENGE_INVALID"
    assert orders_received(app, live) == 1


async def test_key02_a_sign_count_going_backwards_is_refused_and_logged(
    app: InProcessApp, device: VirtualAuthenticator, owner: asyncpg.Connection
) -> None:
    """KEY-02: an authenticator whose count fell behind the stored one is a copy."""
    alice = await app.sign_up()
    await register(app, device, alice)
    live = await app.add_paper_account(alice.token, "Live", environment="LIVE")
    await owner.execute(
        "update app.passkeys set sign_count = 1000000 where owner_id = $1", alice.id
    )
    proposal = await live_proposal(app, alice, live)
    answer = await device.get(await passkey_options(app, CONFIRM, {"p": proposal}, alice.token))
    cloned = await app.gql(CONFIRM, {"p": proposal, "k": answer}, token=alice.token)
    assert codes(cloned) == ["FORBIDDEN"] and reason(cloned) == "PASSKEY_CLONED"
    assert codes(await app.gql(FINISH_SIGN_IN, {"c": await sign_in_answer(app, device)})) == [
        "UNAUTHENTICATED"
    ]
    assert orders_received(app, live) == 0
    kinds = [e["kind"] for e in (await app.data(EVENTS, token=alice.token))["securityEvents"]]
    assert kinds.count("PASSKEY_CLONE_REFUSED") == 2


async def test_risk03_key02_a_passkey_stands_in_for_a_fresh_sign_in_on_live_accounts(
    app: InProcessApp, device: VirtualAuthenticator, owner: asyncpg.Connection
) -> None:
    """RISK-03, KEY-02: loosening limits and resuming a live account with an old session
    need a passkey approving exactly that change."""
    alice = await app.sign_up()
    await register(app, device, alice)
    live = await app.add_paper_account(alice.token, "Live", environment="LIVE")
    await app.data(SET_LIMITS, {"a": live.id, "i": {"maxOrdersPerDay": 1}}, token=alice.token)
    await age_sessions(owner, alice)

    looser = {"a": live.id, "i": {"maxOrdersPerDay": 5}}
    options = await passkey_options(app, SET_LIMITS, looser, alice.token)
    other = await device.get(
        await passkey_options(app, SET_LIMITS, {**looser, "i": {}}, alice.token)
    )
    wrong = await app.gql(SET_LIMITS, {**looser, "k": other}, token=alice.token)
    assert codes(wrong) == ["FORBIDDEN"] and reason(wrong) == "PASSKEY_WRONG_SUBJECT"
    answer = await device.get(options)
    assert "errors" not in await app.gql(SET_LIMITS, {**looser, "k": answer}, token=alice.token)

    await app.data(HALT, {"a": live.id}, token=alice.token)
    answer = await device.get(await passkey_options(app, RESUME, {"a": live.id}, alice.token))
    assert "errors" not in await app.gql(RESUME, {"a": live.id, "k": answer}, token=alice.token)

    # without a passkey the old rule stands: a fresh sign-in
    bob = await app.sign_up()
    bobs_live = await app.add_paper_account(bob.token, "Live", environment="LIVE")
    await app.data(SET_LIMITS, {"a": bobs_live.id, "i": {"maxOrdersPerDay": 1}}, token=bob.token)
    await age_sessions(owner, bob)
    stale = await app.gql(SET_LIMITS, {"a": bobs_live.id, "i": {}}, token=bob.token)
    assert codes(stale) == ["FORBIDDEN"] and reason(stale) == "FRESH_SIGN_IN_REQUIRED"


async def test_key03_passkeys_are_listed_and_removed_by_their_owner_only(
    app: InProcessApp,
    device: VirtualAuthenticator,
    laptop: VirtualAuthenticator,
    owner: asyncpg.Connection,
) -> None:
    """KEY-03: removal needs a fresh sign-in or a passkey, and touches only one's own."""
    alice = await app.sign_up()
    phone = await register(app, device, alice, "Phone")
    second = await register(app, laptop, alice, "Laptop")
    names = [p["name"] for p in (await app.data(PASSKEYS, token=alice.token))["passkeys"]]
    assert names == ["Phone", "Laptop"]
    bob = await app.sign_up()
    assert codes(await app.gql(REMOVE, {"id": phone["id"]}, token=bob.token)) == ["NOT_FOUND"]
    assert await app.data(REMOVE, {"id": phone["id"]}, token=alice.token) == {"removePasskey": True}

    await age_sessions(owner, alice)
    options = await passkey_options(app, REMOVE, {"id": second["id"]}, alice.token)
    answer = await laptop.get(options)
    assert await app.data(REMOVE, {"id": second["id"], "p": answer}, token=alice.token) == {
        "removePasskey": True
    }
    assert (await app.data(PASSKEYS, token=alice.token))["passkeys"] == []
    kinds = [e["kind"] for e in (await app.data(EVENTS, token=alice.token))["securityEvents"]]
    assert kinds.count("PASSKEY_REMOVED") == 2
    assert codes(await app.gql(REMOVE, {"id": second["id"]}, token=alice.token)) == ["NOT_FOUND"]


def test_key03_the_last_way_to_sign_in_stays() -> None:
    """KEY-03: the one rule: a password, or at least one passkey, must remain."""
    assert leaves_a_way_in(has_password=True, passkeys_after=0)
    assert leaves_a_way_in(has_password=False, passkeys_after=1)
    assert not leaves_a_way_in(has_password=False, passkeys_after=0)


def test_key01_the_relying_party_is_public_origins_domain_never_an_ip() -> None:
    """KEY-01: passkeys belong to the domain people open; an IP or nothing turns them off."""
    assert relying_party("https://chat.example") == RelyingParty(
        "chat.example", "https://chat.example"
    )
    assert relying_party("http://localhost:8000") == RelyingParty(
        "localhost", "http://localhost:8000"
    )
    for off in (None, "http://127.0.0.1:8000", "https://[::1]:8443", "https://10.0.0.5"):
        assert isinstance(relying_party(off), PasskeysOff), off


async def test_key01_passkeys_are_off_without_a_domain_and_say_why(db: Database) -> None:
    """KEY-01: with PUBLIC_ORIGIN unset or an IP, passkey ceremonies are refused plainly."""
    for public_origin in (None, "http://127.0.0.1:8000"):
        service = PasskeyService(db, relying_party(public_origin))
        with pytest.raises(Forbidden) as refused:
            await service.begin_sign_in()
        assert refused.value.extensions["reason"] == "PASSKEYS_OFF"
        assert "PUBLIC_ORIGIN" in refused.value.message
