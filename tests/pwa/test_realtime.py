"""What the PWA learns by push, with no reload: balances and orders after a chat
order (DISP-02, MOB-03) and an account switch on one device reaching the user's
other devices (ACCT-03, MOB-02). These need the `accountUpdates` and
`activeAccountChanged` subscriptions on the server."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer
from tests.pwa.helpers import (
    PLACE_ORDER,
    VIEWPORTS,
    Seeded,
    Viewport,
    ask_to_buy,
    by_id,
    go,
    new_context,
    open_app,
    screenshot,
    seed_user,
    sign_in,
    tap,
    value_of,
)


def test_chat_order_changes_cash_by_push_without_reload(
    chat_user: Seeded,
    context: BrowserContext,
    page: Page,
    viewport: Viewport,
    sandbox: SandboxHandle,
) -> None:
    """DISP-02, MOB-03: after a chat order is confirmed, the cash on screen changes to
    the broker's new figure by push (accountUpdates), with no reload and no refresh tap;
    the open orders page picks the order up by itself."""
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server, "chat")
    page.evaluate("() => { window.__sameDocument = true; }")
    cash_before = value_of(page, "cash")
    card = ask_to_buy(viewport, page)
    tap(viewport, card.get_by_test_id("proposal-confirm"))
    expect(card).to_have_attribute("data-status", "CONFIRMED")
    page.wait_for_function(
        """(before) => {
          const v = document.querySelector('[data-testid="cash"]')?.getAttribute('data-value');
          return v && Number(v) !== Number(before);
        }""",
        arg=str(cash_before),
        timeout=10_000,
    )
    assert value_of(page, "cash") == Decimal(sandbox.account(chat_user.paper_number)["cash"])
    screenshot(page, viewport, "chat-confirmed")

    # an order placed elsewhere (here: the API) appears on the open orders page by push
    go(viewport, page, "orders")
    rows = by_id(page, "order-row")
    expect(rows).to_have_count(1)
    chat_user.call(
        PLACE_ORDER,
        {
            "input": {
                "accountId": chat_user.paper_id,
                "symbol": "MSFT",
                "side": "BUY",
                "type": "LIMIT",
                "qty": "1",
                "limitPrice": "2.00",
                "timeInForce": "GTC",
            }
        },
    )
    expect(rows.filter(has_text="MSFT")).to_have_count(1, timeout=5_000)
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"


def test_switching_on_one_device_switches_the_other(
    pwa_server: RunningServer, sandbox: SandboxHandle, browser: Browser
) -> None:
    """ACCT-03, MOB-02: a phone switches by taps; the same user's desktop follows live."""
    user = seed_user(pwa_server, sandbox, "two-devices@example.com")
    user.activate(user.paper_id)
    phone_ctx = new_context(browser, VIEWPORTS["phone"])
    desktop_ctx = new_context(browser, VIEWPORTS["desktop"])
    try:
        sign_in(phone_ctx, pwa_server, user.email)
        sign_in(desktop_ctx, pwa_server, user.email)
        phone, desktop = phone_ctx.new_page(), desktop_ctx.new_page()
        open_app(phone, pwa_server)
        open_app(desktop, pwa_server)
        for page in (phone, desktop):
            expect(by_id(page, "active-account")).to_have_attribute(
                "data-account-id", user.paper_id
            )
        desktop.evaluate("() => { window.__sameDocument = true; }")

        tap(VIEWPORTS["phone"], by_id(phone, "account-switcher"))
        tap(
            VIEWPORTS["phone"],
            phone.locator(f'[data-testid="account-option"][data-account-id="{user.live_id}"]'),
        )
        expect(by_id(phone, "active-account")).to_have_attribute("data-account-id", user.live_id)

        expect(by_id(desktop, "active-account")).to_have_attribute(
            "data-account-id", user.live_id, timeout=5_000
        )
        expect(by_id(desktop, "live-banner")).to_be_visible()
        expect(by_id(desktop, "toast")).to_contain_text("another device")
        assert desktop.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
        screenshot(desktop, VIEWPORTS["desktop"], "switched-by-other-device")
    finally:
        phone_ctx.close()
        desktop_ctx.close()
