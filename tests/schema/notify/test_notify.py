"""Push notifications in-process: devices, settings, delivery to a stand-in push service.

PUSH-01: a fill, a live proposal and refused broker keys reach the device, even
with no subscriber of the account (the app closed). PUSH-02: only known push
services are accepted as endpoints, a 410 deletes the device, the payload carries
no secret and hides amounts on request; the request is encrypted to the browser
(aes128gcm), signed with VAPID (aud, exp, sub) and has a TTL. PUSH-03 / ISO-03:
one user's events never reach another user's device.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.fixtures.inprocess import InProcessApp, codes
from tests.fixtures.push import VAPID_SUBJECT, BrowserKeys, StandInPushService, vapid_claims
from tests.schema.notify.conftest import PushApp

VAPID_KEY = "query { vapidPublicKey }"
ADD = """mutation($input: PushSubscriptionInput!) {
  addPushSubscription(input: $input) { id endpoint createdAt } }"""
REMOVE = "mutation($endpoint: String!) { removePushSubscription(endpoint: $endpoint) }"
DEVICES = "query { pushDevices { id endpoint } }"
SETTINGS = "query { notificationSettings { kinds hideAmounts } }"
SET_SETTINGS = """mutation($input: NotificationSettingsInput!) {
  setNotificationSettings(input: $input) { kinds hideAmounts } }"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""
CANCEL = "mutation($a: UUID, $id: String!) { cancelOrder(accountId: $a, orderId: $id) }"


async def _device(
    app: InProcessApp, token: str, push: StandInPushService, name: str
) -> BrowserKeys:
    keys = BrowserKeys()
    added = await app.data(ADD, {"input": keys.subscription(push.endpoint(name))}, token=token)
    assert added["addPushSubscription"]["endpoint"] == push.endpoint(name)
    return keys


async def _buy(app: InProcessApp, token: str, account_id: str, **extra: str) -> str:
    order = {"accountId": account_id, "symbol": "AAPL", "side": "BUY", "qty": "3", **extra}
    return str((await app.data(PLACE, {"input": order}, token=token))["placeOrder"]["id"])


def _notification(keys: BrowserKeys, body: bytes) -> dict[str, Any]:
    return keys.decrypt(body)


async def test_push01_push02_a_fill_reaches_the_device_encrypted_and_signed(
    push_app: PushApp,
) -> None:
    """PUSH-01, PUSH-02: the fill arrives with nobody subscribed to the account."""
    app, push = push_app.app, push_app.push
    public_key = (await app.data(VAPID_KEY))["vapidPublicKey"]
    assert public_key and len(public_key) == 87  # a base64url P-256 point
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token, nickname="Main")
    keys = await _device(app, alice.token, push, "alice")
    order_id = await _buy(app, alice.token, account.id)

    (request,) = await push.wait_for("alice")
    assert request.method == "POST"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) > 0
    assert len(request.headers["topic"]) <= 32
    claims = vapid_claims(request.headers["authorization"])
    assert claims["aud"] == f"http://127.0.0.1:{push.port}"
    assert claims["sub"] == VAPID_SUBJECT
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert request.headers["authorization"].endswith("k=" + public_key)

    notification = _notification(keys, request.body)
    assert notification["kind"] == "FILLS"
    assert notification["title"].startswith("Filled: Buy 3 AAPL at ")
    assert notification["body"] == "Main (PAPER)"
    assert notification["url"] == f"/#/orders?account={account.id}&order={order_id}"
    assert notification["tag"] == f"order-{order_id}"
    text = str(notification)
    for secret in account.keys.values():
        assert secret not in text
    assert account.account["keyHint"] not in text


async def test_push02_amounts_hidden_and_muted_kinds_skipped(push_app: PushApp) -> None:
    """PUSH-01, PUSH-02: settings per user: muted kinds send nothing, amounts stay hidden."""
    app, push = push_app.app, push_app.push
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token)
    defaults = (await app.data(SETTINGS, token=alice.token))["notificationSettings"]
    assert "FILLS" in defaults["kinds"] and defaults["hideAmounts"] is False
    chosen = {"kinds": ["CANCELLATIONS", "PROPOSALS"], "hideAmounts": True}
    saved = await app.data(SET_SETTINGS, {"input": chosen}, token=alice.token)
    assert saved["setNotificationSettings"] == chosen
    keys = await _device(app, alice.token, push, "alice")

    await _buy(app, alice.token, account.id)  # a fill: muted
    resting = await _buy(app, alice.token, account.id, type="LIMIT", limitPrice="1.00")
    await app.data(CANCEL, {"a": account.id, "id": resting}, token=alice.token)

    (request,) = await push.wait_for("alice")
    notification = _notification(keys, request.body)
    assert notification["kind"] == "CANCELLATIONS"
    assert notification["title"] == "Canceled: Buy AAPL"
    assert not any(ch.isdigit() for ch in notification["title"] + notification["body"])


async def test_push02_a_gone_device_is_deleted_and_a_busy_service_is_retried(
    push_app: PushApp,
) -> None:
    """PUSH-02: 503 is retried with backoff; 410 deletes the subscription."""
    app, push = push_app.app, push_app.push
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token)
    await _device(app, alice.token, push, "alice")
    push.answers = [503, 201, 410]
    await _buy(app, alice.token, account.id)
    first, retried = await push.wait_for("alice", 2)
    assert first.body != retried.body  # encrypted afresh, same notification

    await _buy(app, alice.token, account.id)
    await push.wait_for("alice", 3)
    async with asyncio.timeout(5):
        # polled: the deletion happens in the dispatcher, nothing signals it
        while (await app.data(DEVICES, token=alice.token))["pushDevices"]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    dispatcher = app.services.notify.dispatcher
    assert dispatcher is not None
    assert dispatcher.counts["sent"] == 1 and dispatcher.counts["gone"] == 1


async def test_push03_iso03_one_users_events_never_reach_another_users_device(
    push_app: PushApp,
) -> None:
    """PUSH-03, ISO-03: Bob's device hears Bob's fill only, never Alice's."""
    app, push = push_app.app, push_app.push
    alice, bob = await app.sign_up(), await app.sign_up()
    alice_account = await app.add_paper_account(alice.token)
    bob_account = await app.add_paper_account(bob.token)
    await _device(app, alice.token, push, "alice")
    bob_keys = await _device(app, bob.token, push, "bob")

    alice_order = await _buy(app, alice.token, alice_account.id)
    await push.wait_for("alice")
    bob_order = await _buy(app, bob.token, bob_account.id)
    (request,) = await push.wait_for("bob")
    assert _notification(bob_keys, request.body)["tag"] == f"order-{bob_order}"
    assert alice_order != bob_order
    assert len(push.for_device("alice")) == 1, [r.headers for r in push.for_device("alice")]


async def test_push01_a_live_proposal_and_refused_keys_are_announced(push_app: PushApp) -> None:
    """PUSH-01: a live order waiting for confirmation opens the proposal; refused keys say so."""
    app, push = push_app.app, push_app.push
    alice = await app.sign_up()
    revoked = await app.add_paper_account(alice.token, nickname="Old")
    await asyncio.to_thread(app.sandbox.revoke, revoked.keys["account_number"])
    live = await app.add_paper_account(alice.token, nickname="Real", environment="LIVE")
    keys = await _device(app, alice.token, push, "alice")
    order = {"accountId": live.id, "symbol": "AAPL", "side": "BUY", "qty": "2"}
    answer = await app.gql(PLACE, {"input": order}, token=alice.token)
    assert codes(answer) == ["CONFIRMATION_REQUIRED"]
    proposal_id = answer["errors"][0]["extensions"]["proposal"]["id"]

    requests = await push.wait_for("alice", 2)
    by_kind = {n["kind"]: n for n in (_notification(keys, r.body) for r in requests)}
    proposal = by_kind["PROPOSALS"]
    assert proposal["title"] == "Confirm? Buy 2 AAPL"
    assert proposal["body"] == "Waiting for your confirmation on Real (LIVE)"
    assert proposal["url"] == f"/#/proposal?id={proposal_id}"
    refused = by_kind["BROKER_KEYS"]
    assert refused["url"] == f"/#/accounts?account={revoked.id}"
    assert "Old (PAPER)" in refused["body"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1/push",
        "https://127.0.0.1/push",
        "https://10.0.0.8/fcm/send/x",
        "https://169.254.169.254/latest/meta-data",
        "http://fcm.googleapis.com/fcm/send/x",
        "https://fcm.googleapis.com.evil.example/fcm/send/x",
        "https://evil.example/fcm.googleapis.com",
        "https://fcm.googleapis.com@evil.example/x",
        "https://user:pass@fcm.googleapis.com/fcm/send/x",
        "https://fcm.googleapis.com:8443/fcm/send/x",
        "https://fcm.googleapis.com:443@evil.example/x",
        "https://notify.windows.com.evil.example/w",
        "https://evilpush.apple.com/x",
        "file:///etc/passwd",
        "https://fcm.googleapis.com/x#frag",
    ],
)
async def test_push02_unknown_push_services_are_refused(
    strict_push_app: PushApp, endpoint: str
) -> None:
    """PUSH-02: no server-side request forgery: BAD_USER_INPUT naming the endpoint field."""
    app = strict_push_app.app
    alice = await app.sign_up()
    answer = await app.gql(ADD, {"input": BrowserKeys().subscription(endpoint)}, token=alice.token)
    assert codes(answer) == ["BAD_USER_INPUT"]
    assert answer["errors"][0]["extensions"]["field"] == "endpoint"


async def test_push02_known_push_services_are_accepted_and_removed(
    strict_push_app: PushApp,
) -> None:
    """PUSH-02: the browsers' own push services are accepted; the keys must be real keys."""
    app = strict_push_app.app
    alice = await app.sign_up()
    endpoints = [
        "https://fcm.googleapis.com/fcm/send/fake-token",
        "https://updates.push.services.mozilla.com/wpush/v2/fake",
        "https://web.push.apple.com/QFakeToken",
        "https://db5p.notify.windows.com/w/?token=fake",
    ]
    for endpoint in endpoints:
        await app.data(ADD, {"input": BrowserKeys().subscription(endpoint)}, token=alice.token)
    devices = (await app.data(DEVICES, token=alice.token))["pushDevices"]
    assert {d["endpoint"] for d in devices} == set(endpoints)
    bad_key = {**BrowserKeys().subscription(endpoints[0]), "p256dh": "not-a-key"}
    answer = await app.gql(ADD, {"input": bad_key}, token=alice.token)
    assert answer["errors"][0]["extensions"]["field"] == "p256dh"
    removed = await app.data(REMOVE, {"endpoint": endpoints[0]}, token=alice.token)
    assert removed["removePushSubscription"] is True
    again = await app.data(REMOVE, {"endpoint": endpoints[0]}, token=alice.token)
    assert again["removePushSubscription"] is False


async def test_push03_a_device_signed_in_by_someone_else_changes_hands(
    strict_push_app: PushApp,
) -> None:
    """PUSH-03: the same browser subscribed by Bob stops being Alice's device."""
    app = strict_push_app.app
    alice, bob = await app.sign_up(), await app.sign_up()
    shared = BrowserKeys().subscription("https://fcm.googleapis.com/fcm/send/shared-browser")
    await app.data(ADD, {"input": shared}, token=alice.token)
    await app.data(ADD, {"input": shared}, token=bob.token)
    assert (await app.data(DEVICES, token=alice.token))["pushDevices"] == []
    assert len((await app.data(DEVICES, token=bob.token))["pushDevices"]) == 1


async def test_push01_push_is_off_without_a_vapid_subject(app: InProcessApp) -> None:
    """PUSH-01: with no VAPID_SUBJECT the key is null and a device is FORBIDDEN (push_off)."""
    assert (await app.data(VAPID_KEY))["vapidPublicKey"] is None
    alice = await app.sign_up()
    subscription = BrowserKeys().subscription("https://fcm.googleapis.com/fcm/send/x")
    answer = await app.gql(ADD, {"input": subscription}, token=alice.token)
    assert codes(answer) == ["FORBIDDEN"]
    assert answer["errors"][0]["extensions"]["reason"] == "push_off"
