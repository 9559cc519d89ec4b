"""The realtime subscriptions in-process: accountUpdates and activeAccountChanged.

Run by the served endpoint's schema with the context its own `get_context` and
`on_ws_connect` build (tests/fixtures/inprocess.py); the transport itself is
tested over real WebSockets in tests/live. RT-01 (order events reach
the subscriber), DISP-02 (the snapshot first), ACCT-03 (every device hears of
a switch), ACCT-05 (removal ends the subscription), ISO-03 (someone else's
account is refused).
"""

from __future__ import annotations

import asyncio
from typing import Any

from strawberry.types import ExecutionResult

from tests.fixtures.inprocess import InProcessApp, InProcessSubscription

ACCOUNT_UPDATES = """subscription($a: UUID) {
  accountUpdates(accountId: $a) {
    __typename
    ... on SnapshotEvent { accountId snapshot { cash equity buyingPower } }
    ... on OrderEvent { accountId event order { id status } }
    ... on PositionsChangedEvent { accountId }
    ... on ResyncEvent { accountId reason }
  } }"""
ACTIVE_ACCOUNT_CHANGED = "subscription { activeAccountChanged { id nickname isActive } }"
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""
SET_ACTIVE = "mutation($id: UUID!) { setActiveAccount(id: $id) { id } }"
REMOVE = "mutation($id: UUID!) { removeAccount(id: $id) }"


def _error_codes(result: ExecutionResult) -> list[Any]:
    return [(e.extensions or {}).get("code") for e in result.errors or []]


async def _stream_connected(app: InProcessApp, account_number: str, seconds: float = 5) -> None:
    """Wait until the app's broker stream for the account is up (orders' events flow)."""
    async with asyncio.timeout(seconds):
        while True:
            stats = await asyncio.to_thread(app.sandbox.stats)
            if stats[account_number]["stream_connections"] >= 1:
                return
            await asyncio.sleep(0.05)


async def _update(events: InProcessSubscription) -> dict[str, Any]:
    result = await events.next()
    assert result.errors is None and result.data is not None, result
    update: dict[str, Any] = result.data["accountUpdates"]
    return update


async def test_disp02_rt01_account_updates_start_with_the_snapshot_then_order_events(
    app: InProcessApp,
) -> None:
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token, cash="50000")
    async with app.subscription(ACCOUNT_UPDATES, {"a": account.id}, token=alice.token) as events:
        first = await _update(events)
        assert first["__typename"] == "SnapshotEvent" and first["accountId"] == account.id
        assert first["snapshot"]["cash"] == "50000.00"
        await _stream_connected(app, account.keys["account_number"])

        buy = {"accountId": account.id, "symbol": "AAPL", "side": "BUY", "qty": "1"}
        placed = (await app.data(PLACE, {"input": buy}, token=alice.token))["placeOrder"]
        seen: list[dict[str, Any]] = []
        while not any(u.get("event") == "fill" for u in seen):
            seen.append(await _update(events))
        order_events = [u for u in seen if u["__typename"] == "OrderEvent"]
        assert {u["order"]["id"] for u in order_events} == {placed["id"]}
        assert [u["event"] for u in order_events] == ["new", "fill"]


async def test_acct05_iso03_account_updates_refuse_strangers_and_end_on_removal(
    app: InProcessApp,
) -> None:
    alice, bob = await app.sign_up(), await app.sign_up()
    account = await app.add_paper_account(alice.token)
    async with app.subscription(ACCOUNT_UPDATES, {"a": account.id}, token=bob.token) as stolen:
        refused = await stolen.next()
        assert refused.data is None and _error_codes(refused) == ["NOT_FOUND"]
    async with app.subscription(ACCOUNT_UPDATES, {"a": account.id}) as anonymous:
        assert _error_codes(await anonymous.next()) == ["UNAUTHENTICATED"]

    async with app.subscription(ACCOUNT_UPDATES, token=alice.token) as events:
        assert (await _update(events))["accountId"] == account.id, "the active account"
        await app.data(REMOVE, {"id": account.id}, token=alice.token)
        # a periodic snapshot may still arrive first; then the stream ends
        for result in await events.until_ended():
            assert result.data and result.data["accountUpdates"]["__typename"] == "SnapshotEvent"


async def test_acct03_active_account_changed_follows_every_switch(app: InProcessApp) -> None:
    alice = await app.sign_up()
    await app.add_paper_account(alice.token, "Main")
    swing = await app.add_paper_account(alice.token, "Swing")
    async with app.subscription(ACTIVE_ACCOUNT_CHANGED, token=alice.token) as changes:
        await app.data(SET_ACTIVE, {"id": swing.id}, token=alice.token)
        switched = await changes.next()
        assert switched.errors is None
        assert switched.data == {
            "activeAccountChanged": {"id": swing.id, "nickname": "Swing", "isActive": True}
        }


async def test_active_account_changed_refuses_a_signed_out_subscriber(app: InProcessApp) -> None:
    async with app.subscription(ACTIVE_ACCOUNT_CHANGED) as changes:
        refused = await changes.next()
        assert refused.data is None and _error_codes(refused) == ["UNAUTHENTICATED"]
        assert await changes.until_ended() == []


async def test_disp04_keys_revoked_at_the_broker_are_said_to_subscribers_at_once(
    app: InProcessApp,
) -> None:
    """DISP-04, ACCT-06: when the broker stops accepting an account's keys, its subscribers
    hear it at once (a resync with reason keys_refused), not at their next read."""
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token)
    async with app.subscription(ACCOUNT_UPDATES, {"a": account.id}, token=alice.token) as events:
        assert (await _update(events))["__typename"] == "SnapshotEvent"
        await _stream_connected(app, account.keys["account_number"])
        await asyncio.to_thread(app.sandbox.revoke, account.keys["account_number"])
        async with asyncio.timeout(15):
            while True:
                update = await _update(events)
                if update["__typename"] == "ResyncEvent":
                    break
        assert update == {
            "__typename": "ResyncEvent",
            "accountId": account.id,
            "reason": "keys_refused",
        }
