"""Notifications in the browser (PUSH-01, PUSH-02): turning them on, showing a push, a tap.

Offline, `PushManager.subscribe` cannot reach a real push service, so an init
script gives the page a stand-in subscription made of test keys (a browser's
P-256 key and auth secret, tests/fixtures/push.py) at a loopback endpoint (the
test-only flag); nothing is sent to it. The service worker's push handler runs for
real: the DevTools protocol delivers a push (`ServiceWorker.deliverPushMessage`),
`registration.getNotifications()` shows the notification, and the handler a tap
runs (`openPage`, what `notificationclick` calls) is called in the worker, since
a headless browser has no notification to click.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, Playwright, expect

from tests.fixtures.postgres import Cluster
from tests.fixtures.push import PUSH_ENV, BrowserKeys
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer, launch_server
from tests.fixtures.trading import broker_env
from tests.pwa.conftest import chromium_executable, launched, off_thread
from tests.pwa.helpers import VIEWPORTS, by_id, gql, new_context, open_app, seed_user, sign_in, tap

# nothing listens there: the test-only loopback flag admits it, and no push leaves the machine
ENDPOINT = "http://127.0.0.1:9/push/browser-test-device"
DEVICES = "query { pushDevices { endpoint } }"
SETTINGS = "query { notificationSettings { kinds hideAmounts } }"

# Replaces the browser's push service: subscribe() answers with the test's keys.
FAKE_PUSH = """
(() => {
  const made = %s;
  let current = null;
  const subscription = {
    endpoint: made.endpoint,
    toJSON: () => ({ endpoint: made.endpoint, keys: { p256dh: made.p256dh, auth: made.auth } }),
    unsubscribe: async () => { current = null; return true; },
  };
  if (self.PushManager) {
    PushManager.prototype.subscribe = async function () { current = subscription; return current; };
    PushManager.prototype.getSubscription = async function () { return current; };
  }
})();
"""


@pytest.fixture(scope="module")
def push_server(
    pg_cluster: Cluster, sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server with push on (a test VAPID key), on a fresh database of its own."""
    database_url = off_thread(pg_cluster.create_database)
    home: Path = tmp_path_factory.mktemp("push-home")
    running = launch_server(database_url, home, {**broker_env(sandbox), **PUSH_ENV})
    yield running
    running.stop()
    off_thread(pg_cluster.drop_database, database_url)


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """The whole Chromium: the headless one the other PWA tests use shows no notifications."""
    yield from launched(playwright, chromium_executable(playwright, shows_notifications=True))


@pytest.fixture
def phone(browser: Browser, push_server: RunningServer) -> Iterator[BrowserContext]:
    keys = BrowserKeys()
    context = new_context(browser, VIEWPORTS["phone"], service_workers="allow")
    context.grant_permissions(["notifications"], origin=push_server.url)
    context.add_init_script(FAKE_PUSH % json.dumps(keys.subscription(ENDPOINT)))
    yield context
    context.close()


def _service_worker(page: Page, origin: str) -> tuple[CDPSession, str]:
    """A DevTools session with the ServiceWorker domain on, and the registration id of the
    app's activated worker (a push delivered while it still installs would be lost)."""
    cdp = page.context.new_cdp_session(page)
    scopes: dict[str, str] = {}
    activated: set[str] = set()

    def registrations(params: dict[str, Any]) -> None:
        for registration in params["registrations"]:
            if not registration["isDeleted"]:
                scopes[registration["registrationId"]] = registration["scopeURL"]

    def versions(params: dict[str, Any]) -> None:
        for version in params["versions"]:
            if version["status"] == "activated":
                activated.add(version["registrationId"])

    def found() -> list[str]:
        return [r for r in activated if scopes.get(r, "").startswith(origin)]

    cdp.on("ServiceWorker.workerRegistrationUpdated", registrations)
    cdp.on("ServiceWorker.workerVersionUpdated", versions)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not found() and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert found(), "no activated service worker for the app"
    return cdp, found()[0]


def _notifications(page: Page) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = page.evaluate(
        """navigator.serviceWorker.ready
             .then((r) => r.getNotifications())
             .then((ns) => ns.map((n) => ({
               title: n.title, body: n.body, tag: n.tag, data: n.data })))"""
    )
    return shown


def _deliver(page: Page, server: RunningServer, payload: dict[str, str]) -> list[dict[str, Any]]:
    """Deliver `payload` to the app's service worker as a push; the notifications it shows.

    Under load DevTools now and then drops a delivery to a worker it is starting; it is
    delivered again then, which shows no second notification (the same tag replaces it).
    """
    cdp, registration = _service_worker(page, server.url)
    shown: list[dict[str, Any]] = []
    for _ in range(3):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": server.url, "registrationId": registration, "data": json.dumps(payload)},
        )
        deadline = time.monotonic() + 4
        shown = _notifications(page)
        while not shown and time.monotonic() < deadline:
            page.wait_for_timeout(100)
            shown = _notifications(page)
        if shown:
            break
    return shown


def _controlled_app(phone: BrowserContext, server: RunningServer, route: str) -> Page:
    """The app opened on `route` and controlled by its service worker, as an installed app is."""
    page = phone.new_page()
    open_app(page, server, route)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    expect(by_id(page, "app")).to_be_visible()
    return page


def test_push01_turn_on_show_a_push_and_open_its_order(
    phone: BrowserContext, push_server: RunningServer, sandbox: SandboxHandle
) -> None:
    """PUSH-01, PUSH-02: a tap turns notifications on; a push shows; a tap opens the order."""
    user = seed_user(push_server, sandbox, "push-phone@example.com")
    sign_in(phone, push_server, user.email)
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_app(page, push_server, "accounts")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker, as an installed app is
    expect(by_id(page, "notifications")).to_be_visible()

    tap(VIEWPORTS["phone"], by_id(page, "push-enable"))
    expect(by_id(page, "push-on")).to_be_visible()
    assert gql(phone, push_server, DEVICES)["pushDevices"] == [{"endpoint": ENDPOINT}]

    tap(VIEWPORTS["phone"], by_id(page, "push-hide-amounts"))
    expect(by_id(page, "push-hide-amounts")).to_be_checked()
    page.wait_for_timeout(300)
    assert gql(phone, push_server, SETTINGS)["notificationSettings"]["hideAmounts"] is True

    order_url = f"/#/orders?account={user.paper_id}&order=test-order-1"
    payload = {
        "kind": "FILLS",
        "title": "Filled: Buy AAPL",
        "body": "Main (PAPER)",
        "url": order_url,
        "tag": "order-test-order-1",
    }
    shown = _deliver(page, push_server, payload)
    assert len(shown) == 1, shown
    assert shown[0]["title"] == payload["title"] and shown[0]["tag"] == payload["tag"]
    assert shown[0]["data"]["url"] == push_server.url + order_url

    (worker,) = phone.service_workers
    worker.evaluate("(url) => openPage(url)", shown[0]["data"]["url"])
    expect(page).to_have_url(push_server.url + order_url)
    expect(by_id(page, "nav-orders")).to_have_attribute("aria-current", "page")

    # a link to another origin never leaves the app: its start page opens instead
    worker.evaluate("(url) => openPage(url)", "https://evil.example/#/orders")
    expect(page).to_have_url(push_server.url + "/")
    assert not errors, errors


PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"
PROPOSAL = "query($id: UUID!) { proposal(id: $id) { status orderId } }"


def test_push01_a_live_proposal_notification_opens_the_proposal_unconfirmed(
    phone: BrowserContext, push_server: RunningServer, sandbox: SandboxHandle
) -> None:
    """PUSH-01, ISO-02: the "Confirm?" push opens its proposal with Confirm and Dismiss, still
    PENDING and no order sent; an id that is not the person's reads as not found."""
    user = seed_user(push_server, sandbox, "push-proposal@example.com")
    order = {"accountId": user.live_id, "symbol": "AAPL", "side": "BUY", "qty": "2"}
    proposed = push_server.gql(PLACE, {"input": order}, token=user.token)
    (refusal,) = proposed["errors"]
    assert refusal["extensions"]["code"] == "CONFIRMATION_REQUIRED", proposed
    proposal_id = refusal["extensions"]["proposal"]["id"]
    sign_in(phone, push_server, user.email)
    page = _controlled_app(phone, push_server, "portfolio")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # the link the dispatcher puts in a proposal's notification (tests/schema/notify)
    proposal_url = f"/#/proposal?id={proposal_id}"
    payload = {
        "kind": "PROPOSALS",
        "title": "Confirm? Buy 2 AAPL",
        "body": "Waiting for your confirmation on Real money (LIVE)",
        "url": proposal_url,
        "tag": f"proposal-{proposal_id}",
    }
    (shown,) = _deliver(page, push_server, payload)
    assert shown["data"]["url"] == push_server.url + proposal_url

    (worker,) = phone.service_workers
    worker.evaluate("(url) => openPage(url)", shown["data"]["url"])
    expect(page).to_have_url(push_server.url + proposal_url)
    card = by_id(page, "proposal-card")
    expect(card).to_have_attribute("data-proposal-id", proposal_id)
    expect(card).to_have_attribute("data-status", "PENDING")
    expect(card).to_have_attribute("data-env", "LIVE")
    expect(by_id(page, "proposal-account")).to_contain_text("Real money (LIVE)")
    expect(by_id(page, "proposal-confirm")).to_be_enabled()
    expect(by_id(page, "proposal-dismiss")).to_be_enabled()
    page.wait_for_timeout(500)  # time enough for anything the page might send on its own
    assert user.call(PROPOSAL, {"id": proposal_id})["proposal"] == {
        "status": "PENDING",
        "orderId": None,
    }
    assert sandbox.stats()[user.live_number]["orders_received"] == 0

    for unknown in ("00000000-0000-4000-8000-000000000000", "not-an-id"):
        worker.evaluate("(url) => openPage(url)", f"/#/proposal?id={unknown}")
        expect(by_id(page, "proposal-error")).to_have_attribute("data-code", "NOT_FOUND")
        expect(by_id(page, "proposal-card")).to_have_count(0)
    assert not errors, errors


def test_push03_signing_out_removes_the_devices_subscription(
    phone: BrowserContext, push_server: RunningServer, sandbox: SandboxHandle
) -> None:
    """PUSH-03, ISO-03: sign-out removes the device from the server and unsubscribes the
    browser, so a signed-out phone hears nothing more of the person."""
    user = seed_user(push_server, sandbox, "push-sign-out@example.com")
    sign_in(phone, push_server, user.email)
    page = _controlled_app(phone, push_server, "accounts")
    tap(VIEWPORTS["phone"], by_id(page, "push-enable"))
    expect(by_id(page, "push-on")).to_be_visible()
    assert user.call(DEVICES)["pushDevices"] == [{"endpoint": ENDPOINT}]

    tap(VIEWPORTS["phone"], by_id(page, "sign-out"))
    expect(by_id(page, "signin-form")).to_be_visible()
    assert user.call(DEVICES)["pushDevices"] == []
    browser_side = page.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription())"
    )
    assert browser_side is None
