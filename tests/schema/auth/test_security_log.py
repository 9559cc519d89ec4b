"""The security log in-process: securityEvents records each kind of event, for its person only.

ADM-02 (each person's security log: sign-ins with device and address, failed sign-ins,
broker keys added, replaced and removed, limits changed, halts and resumes, live
confirmations with the device; kept SECURITY_LOG_DAYS).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from api.auth.security_log import prune
from api.db import Database
from tests.fixtures.inprocess import InProcessApp, SignedInUser, codes
from tests.fixtures.server import PASSWORD

EVENTS = "query($limit: Int! = 50) { securityEvents(limit: $limit) { id kind detail at } }"
SIGN_IN = """mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token } }"""
UPDATE_KEYS = """mutation($id: UUID!, $k: String!, $s: String!) {
  updateAccountCredentials(id: $id, apiKeyId: $k, secretKey: $s) { id } }"""
REMOVE = "mutation($id: UUID!) { removeAccount(id: $id) }"
SET_LIMITS = """mutation($a: UUID!, $input: AccountLimitsInput!) {
  setAccountLimits(accountId: $a, input: $input) { id } }"""
HALT = "mutation($a: UUID!) { haltAccount(accountId: $a) { halted } }"
RESUME = "mutation($a: UUID!) { resumeAccount(accountId: $a) { halted } }"
PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"
CONFIRM = "mutation($p: UUID!) { confirmOrder(proposalId: $p) { id } }"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) " + "x" * 300


async def _events(app: InProcessApp, user: SignedInUser) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = (await app.data(EVENTS, token=user.token))["securityEvents"]
    return events


async def _kinds(app: InProcessApp, user: SignedInUser) -> list[str]:
    return [event["kind"] for event in await _events(app, user)]


async def test_adm02_sign_ins_are_logged_with_device_and_address_failures_too(
    app: InProcessApp,
) -> None:
    alice = await app.sign_up("alice@example.com")
    variables = {"email": alice.email, "password": PASSWORD}
    await app.gql(SIGN_IN, variables, headers={"user-agent": PHONE})
    await app.gql(SIGN_IN, {**variables, "password": "not the password"})
    failed, signed_in, signed_up = await _events(app, alice)
    assert (failed["kind"], signed_in["kind"], signed_up["kind"]) == (
        "SIGN_IN_FAILED",
        "SIGNED_IN",
        "SIGNED_IN",
    )
    assert signed_in["detail"] == {"device": PHONE[:200], "address": "127.0.0.1"}
    assert failed["detail"]["address"] == "127.0.0.1"

    bob = await app.sign_up()
    assert await _kinds(app, bob) == ["SIGNED_IN"], "nobody sees another person's events"
    assert codes(await app.gql(EVENTS)) == ["UNAUTHENTICATED"]


async def test_adm02_broker_keys_added_replaced_and_removed_are_logged_never_the_keys(
    app: InProcessApp,
) -> None:
    alice = await app.sign_up()
    added = await app.add_paper_account(alice.token, "Main")
    same = {"id": added.id, "k": added.keys["api_key_id"], "s": added.keys["secret_key"]}
    await app.data(UPDATE_KEYS, same, token=alice.token)
    await app.data(REMOVE, {"id": added.id}, token=alice.token)
    removed, replaced, created, _ = await _events(app, alice)
    assert [removed["kind"], replaced["kind"], created["kind"]] == [
        "BROKER_KEYS_REMOVED",
        "BROKER_KEYS_REPLACED",
        "BROKER_KEYS_ADDED",
    ]
    assert created["detail"]["accountId"] == added.id
    assert created["detail"]["nickname"] == "Main"
    assert created["detail"]["keyHint"] == added.account["keyHint"]
    assert replaced["detail"]["accountId"] == removed["detail"]["accountId"] == added.id
    # app.gql also checks that no answer carried a key of this test


async def test_adm02_limits_halts_and_resumes_are_logged(app: InProcessApp) -> None:
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token)
    limits = {"maxOrderNotional": "1000", "deniedSymbols": ["GME"]}
    await app.data(SET_LIMITS, {"a": account.id, "input": limits}, token=alice.token)
    await app.data(HALT, {"a": account.id}, token=alice.token)
    await app.data(RESUME, {"a": account.id}, token=alice.token)
    resumed, halted, changed = (await _events(app, alice))[:3]
    assert [resumed["kind"], halted["kind"], changed["kind"]] == [
        "ACCOUNT_RESUMED",
        "ACCOUNT_HALTED",
        "LIMITS_CHANGED",
    ]
    assert changed["detail"]["limits"]["maxOrderNotional"] == "1000"
    assert changed["detail"]["limits"]["deniedSymbols"] == ["GME"]
    assert halted["detail"]["accountId"] == resumed["detail"]["accountId"] == account.id


async def test_adm02_a_live_confirmation_is_logged_with_its_device(app: InProcessApp) -> None:
    alice = await app.sign_up()
    live = await app.add_paper_account(alice.token, environment="LIVE")
    order = {"accountId": live.id, "symbol": "AAPL", "side": "BUY", "qty": "1"}
    proposed = await app.gql(PLACE, {"input": order}, token=alice.token)
    proposal = proposed["errors"][0]["extensions"]["proposal"]
    confirmed = await app.client.post(
        "/graphql",
        json={"query": CONFIRM, "variables": {"p": proposal["id"]}},
        headers={"authorization": f"Bearer {alice.token}", "user-agent": "Desk browser"},
    )
    assert "errors" not in confirmed.json()
    [event] = [e for e in await _events(app, alice) if e["kind"] == "LIVE_ORDER_CONFIRMED"]
    assert event["detail"]["device"] == "Desk browser"
    assert event["detail"]["address"] == "127.0.0.1"
    assert event["detail"]["proposalId"] == proposal["id"]
    assert event["detail"]["accountId"] == live.id


async def test_adm02_events_older_than_the_retention_are_deleted(
    app: InProcessApp, owner: asyncpg.Connection, db: Database
) -> None:
    alice = await app.sign_up()
    await app.sign_in(alice.email)
    await owner.execute(
        "update app.security_events set at = now() - interval '40 days'"
        " where id = (select min(id::text)::uuid from app.security_events where user_id = $1)",
        UUID(alice.id),
    )
    assert await prune(db, 30) == 1
    assert await _kinds(app, alice) == ["SIGNED_IN"]
    assert await prune(db, 30) == 0
