"""Passkeys in the PWA, on a phone, with Chromium's virtual authenticator (KEY-01..03,
AUTH-02, TRADE-02).

WebAuthn runs only in a secure context, which Chromium grants `http://localhost:<port>`
and not `http://127.0.0.1`: these tests start their own server with PUBLIC_ORIGIN set
to its localhost origin and open it by that name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from tests.fixtures.authenticator import AUTHENTICATOR_OPTIONS
from tests.fixtures.postgres import Cluster
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import (
    PASSWORD,
    RunningServer,
    free_port,
    invite_code,
    launch_server,
    signed_up_user,
)
from tests.fixtures.trading import broker_env
from tests.pwa.conftest import off_thread
from tests.pwa.helpers import (
    VIEWPORTS,
    Seeded,
    Viewport,
    by_id,
    go,
    open_app,
    place_from_ticket,
    seed_user,
    sign_in,
    tap,
)

# What the page sends itself, with its own cookie, to show what the server refuses.
POST = """const post = async (query, variables) => (await fetch('/graphql', {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query, variables }) })).json();"""
CONFIRM = f"""async ([p, k]) => {{ {POST} return post(
  'mutation($p: UUID!, $k: JSON) {{ confirmOrder(proposalId: $p, passkey: $k) {{ id }} }}',
  {{ p, k }}); }}"""
PLACE = f"""async (accountId) => {{ {POST} return (await post(
  'mutation($i: PlaceOrderInput!) {{ placeOrder(input: $i) {{ id }} }}',
  {{ i: {{ accountId, symbol: 'AAPL', side: 'BUY', qty: '1' }} }}))
  .errors[0].extensions.proposal.id; }}"""
JUNK_SIGN_IN = f"""async () => {{ {POST} return (await post(
  'mutation($c: JSON!) {{ finishPasskeySignIn(credential: $c) {{ token }} }}',
  {{ c: {{ junk: true }} }})).errors[0].extensions.code; }}"""
ASSERT = """async (options) => {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  return (await navigator.credentials.get({ publicKey })).toJSON();
}"""


def _start(cluster: Cluster, sandbox: SandboxHandle, home: Path) -> tuple[RunningServer, str]:
    database_url = off_thread(cluster.create_database)
    port = free_port()
    env = {**broker_env(sandbox), "PUBLIC_ORIGIN": f"http://localhost:{port}"}
    running = launch_server(database_url, home, env, port=port)
    # the browser opens it as localhost: the relying party and the Origin it sends
    return dataclasses.replace(running, url=f"http://localhost:{port}"), database_url


@pytest.fixture(scope="module")
def passkey_server(
    pg_cluster: Cluster, sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running, database_url = _start(pg_cluster, sandbox, tmp_path_factory.mktemp("home"))
    signed_up_user(running, "passkey-inviter@example.com")
    yield running
    running.stop()
    off_thread(pg_cluster.drop_database, database_url)


@pytest.fixture
def viewport() -> Viewport:
    """Phones are where passkeys matter (Face ID, fingerprints)."""
    return VIEWPORTS["phone"]


@pytest.fixture
def authenticator(context: BrowserContext, page: Page) -> Iterator[tuple[CDPSession, str]]:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR_OPTIONS})
    yield cdp, added["authenticatorId"]


def user_verified(authenticator: tuple[CDPSession, str], verified: bool) -> None:
    cdp, authenticator_id = authenticator
    cdp.send(
        "WebAuthn.setUserVerified",
        {"authenticatorId": authenticator_id, "isUserVerified": verified},
    )


def add_passkey_on_accounts_page(viewport: Viewport, page: Page) -> None:
    go(viewport, page, "accounts")
    tap(viewport, by_id(page, "passkey-add"))
    expect(by_id(page, "passkey-item")).to_have_count(1)


def code_of(answer: dict[str, Any]) -> tuple[str, str | None]:
    extensions = answer["errors"][0]["extensions"]
    return extensions["code"], extensions.get("reason")


def test_key01_key03_sign_up_add_a_passkey_sign_in_without_email_and_remove_it(
    passkey_server: RunningServer, page: Page, viewport: Viewport, authenticator: Any
) -> None:
    """KEY-01, KEY-03: the offer after sign-up adds a passkey; signing in with it types no
    email (the password form stays in view); the accounts page lists and removes it."""
    email = "passkey-phone@example.com"
    page.goto(passkey_server.url)
    tap(viewport, by_id(page, "show-signup"))
    by_id(page, "signup-email").fill(email)
    by_id(page, "signup-password").fill(PASSWORD)
    by_id(page, "signup-invite").fill(invite_code(passkey_server))
    tap(viewport, by_id(page, "signup-submit"))
    offer = by_id(page, "passkey-offer")
    expect(offer).to_be_visible()
    tap(viewport, by_id(page, "passkey-offer-add"))
    expect(offer).to_have_count(0)

    go(viewport, page, "accounts")
    expect(by_id(page, "passkey-item")).to_have_count(1)
    tap(viewport, by_id(page, "sign-out"))
    expect(by_id(page, "signin-form")).to_be_visible()
    expect(by_id(page, "signin-password")).to_be_visible()
    expect(by_id(page, "signin-email")).to_have_value("")
    tap(viewport, by_id(page, "signin-passkey"))
    expect(by_id(page, "app")).to_be_visible()

    go(viewport, page, "accounts")
    expect(by_id(page, "me-email")).to_have_text(email)
    tap(viewport, by_id(page, "passkey-remove"))
    expect(by_id(page, "passkey-item")).to_have_count(0)
    kinds = page.locator('[data-testid="security-event"]')
    tap(viewport, page.get_by_role("button", name="Refresh"))
    expect(kinds.filter(has=page.locator("text=Passkey removed")).first).to_be_visible()


def test_key02_trade02_a_live_order_is_confirmed_with_face_id(
    passkey_server: RunningServer,
    sandbox: SandboxHandle,
    context: BrowserContext,
    page: Page,
    viewport: Viewport,
    authenticator: Any,
) -> None:
    """KEY-02, TRADE-02: Confirm on a live proposal runs the passkey ceremony; a failed
    verification, no passkey, a replayed answer or one for another proposal send nothing;
    the verified answer sends exactly one order."""
    user: Seeded = seed_user(passkey_server, sandbox, "passkey-live@example.com")
    sign_in(context, passkey_server, user.email)
    open_app(page, passkey_server)
    add_passkey_on_accounts_page(viewport, page)
    user.activate(user.live_id)
    open_app(page, passkey_server, "trade")
    # the device's last known account (paper) shows first; typing before the server's
    # answer would rightly be a ticket filled in for another account
    expect(by_id(page, "app")).to_have_attribute("data-env", "LIVE")
    by_id(page, "ticket-symbol").fill("AAPL")
    by_id(page, "ticket-qty").fill("1")
    before = sandbox.stats()[user.live_number]["orders_received"]
    place_from_ticket(viewport, page)
    card = by_id(page, "proposal-card")
    expect(card).to_have_attribute("data-status", "PENDING")

    user_verified(authenticator, False)
    tap(viewport, by_id(page, "proposal-confirm"))
    expect(card.get_by_test_id("form-error")).to_have_attribute("data-code", "PASSKEY_CANCELLED")
    expect(card).to_have_attribute("data-status", "PENDING")
    assert sandbox.stats()[user.live_number]["orders_received"] == before

    # what the server says to a client that skips the ceremony or cheats at it
    first = card.get_attribute("data-proposal-id")
    other = page.evaluate(PLACE, user.live_id)
    required = page.evaluate(CONFIRM, [first, None])
    assert code_of(required) == ("PASSKEY_REQUIRED", None)
    for_other = page.evaluate(CONFIRM, [other, None])["errors"][0]["extensions"]["options"]
    user_verified(authenticator, True)
    answer_for_other = page.evaluate(ASSERT, for_other)
    assert code_of(page.evaluate(CONFIRM, [first, answer_for_other])) == (
        "FORBIDDEN",
        "PASSKEY_WRONG_SUBJECT",
    )
    assert sandbox.stats()[user.live_number]["orders_received"] == before

    tap(viewport, by_id(page, "proposal-confirm"))
    expect(card).to_have_attribute("data-status", "CONFIRMED")
    assert sandbox.stats()[user.live_number]["orders_received"] == before + 1

    # a used answer approves nothing more
    options = page.evaluate(CONFIRM, [other, None])["errors"][0]["extensions"]["options"]
    answer = page.evaluate(ASSERT, options)
    assert "errors" not in page.evaluate(CONFIRM, [other, answer])
    third = page.evaluate(PLACE, user.live_id)
    assert code_of(page.evaluate(CONFIRM, [third, answer])) == (
        "FORBIDDEN",
        "PASSKEY_CHALLENGE_INVALID",
    )
    assert sandbox.stats()[user.live_number]["orders_received"] == before + 2


def test_auth02_passkey_sign_in_is_rate_limited(
    pg_cluster: Cluster,
    sandbox: SandboxHandle,
    tmp_path: Path,
    context: BrowserContext,
    page: Page,
    viewport: Viewport,
    authenticator: Any,
) -> None:
    """AUTH-02, KEY-01: failed passkey sign-ins count per client address; past the limit
    even a good passkey is RATE_LIMITED (on a server of its own, so no other test's
    sign-ins share the count)."""
    server, database_url = _start(pg_cluster, sandbox, tmp_path / "home")
    try:
        signed_up_user(server, "limited@example.com")
        sign_in(context, server, "limited@example.com")
        open_app(page, server)
        add_passkey_on_accounts_page(viewport, page)
        tap(viewport, by_id(page, "sign-out"))
        expect(by_id(page, "signin-form")).to_be_visible()
        codes = [page.evaluate(JUNK_SIGN_IN) for _ in range(31)]
        assert codes[0] == "BAD_USER_INPUT" and codes[-1] == "RATE_LIMITED"
        tap(viewport, by_id(page, "signin-passkey"))
        expect(by_id(page, "auth-error")).to_have_attribute("data-code", "RATE_LIMITED")
        expect(by_id(page, "signin-password")).to_be_visible()
    finally:
        server.stop()
        off_thread(pg_cluster.drop_database, database_url)
