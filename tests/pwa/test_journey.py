"""The whole journey of a new user on a phone and on a desktop, in a real browser
against the real server and the sandbox broker (MOB-01, MOB-02, ACCT-06,
DISP-01..03, TRADE-02..04)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import PASSWORD, RunningServer
from tests.pwa.helpers import (
    Viewport,
    by_id,
    expect_value,
    go,
    place_from_ticket,
    screenshot,
    tap,
)


def sign_up_first_user(viewport: Viewport, page: Page, server: RunningServer, email: str) -> None:
    page.goto(server.url + "/")
    expect(by_id(page, "signin-form")).to_be_visible()
    tap(viewport, by_id(page, "show-signup"))
    by_id(page, "signup-email").fill(email)
    by_id(page, "signup-password").fill(PASSWORD)
    tap(viewport, by_id(page, "signup-submit"))
    expect(by_id(page, "app")).to_be_visible()
    expect(by_id(page, "no-account")).to_be_visible()


def add_account_via_form(
    viewport: Viewport, page: Page, nickname: str, keys: dict[str, str], live: bool = False
) -> str:
    """Fill the add-account form; returns the new account's id."""
    go(viewport, page, "accounts")
    before = set(
        by_id(page, "account-card").evaluate_all("els => els.map(e => e.dataset.accountId)")
    )
    tap(viewport, by_id(page, "add-account"))
    form = by_id(page, "account-form")
    expect(form).to_be_visible()
    by_id(page, "account-nickname-input").fill(nickname)
    if live:
        tap(viewport, by_id(page, "account-env-live"))
        expect(by_id(page, "live-warning")).to_be_visible()
    by_id(page, "account-key-id").fill(keys["api_key_id"])
    by_id(page, "account-secret").fill(keys["secret_key"])
    tap(viewport, by_id(page, "account-submit"))
    expect(by_id(page, "account-form-dialog")).to_be_hidden()
    card = page.locator(f'[data-testid="account-card"]:has-text("{nickname}")')
    expect(card).to_be_visible()
    account_id = card.get_attribute("data-account-id")
    assert account_id and account_id not in before
    return account_id


def expect_figures_of(page: Page, sandbox: SandboxHandle, account_number: str) -> None:
    """DISP-02/03: cash, equity and buying power as the broker reports them."""
    broker = sandbox.account(account_number)
    expect_value(page, "cash", broker["cash"])
    expect_value(page, "equity", broker["equity"])
    expect_value(page, "buying-power", broker["buying_power"])


def switch_to(viewport: Viewport, page: Page, account_id: str, nickname: str) -> None:
    """MOB-02: open the switcher and tap an account; the header follows once the server agreed."""
    tap(viewport, by_id(page, "account-switcher"))
    sheet = by_id(page, "account-sheet")
    expect(sheet).to_be_visible()
    tap(viewport, sheet.locator(f'[data-testid="account-option"][data-account-id="{account_id}"]'))
    expect(sheet).to_be_hidden()
    expect(by_id(page, "active-account")).to_have_attribute("data-account-id", account_id)
    expect(by_id(page, "account-nickname")).to_have_text(nickname)


def place_via_ticket(
    viewport: Viewport, page: Page, symbol: str, qty: str, limit: str | None = None
) -> str:
    """Fill the order ticket and place the order; returns the order id shown."""
    go(viewport, page, "portfolio")
    tap(viewport, by_id(page, "open-ticket"))
    expect(by_id(page, "order-ticket")).to_be_visible()
    by_id(page, "ticket-symbol").fill(symbol)
    tap(viewport, by_id(page, "ticket-side-buy"))
    by_id(page, "ticket-qty").fill(qty)
    if limit is not None:
        by_id(page, "ticket-type").select_option("LIMIT")
        by_id(page, "ticket-tif").select_option("GTC")
        by_id(page, "ticket-limit").fill(limit)
    place_from_ticket(viewport, page)
    result = by_id(page, "ticket-result")
    expect(result).to_be_visible()
    order_id = result.get_by_test_id("order-row").get_attribute("data-order-id")
    assert order_id
    return order_id


def test_journey_sign_up_accounts_switch_order_cancel_remove(
    fresh_server: RunningServer, sandbox: SandboxHandle, viewport: Viewport, page: Page
) -> None:
    """MOB-01, MOB-02, ACCT-06, DISP-01..03: sign up, two paper accounts with the
    sandbox's figures, switch with taps, order through the ticket, cancel a resting
    limit order after confirming, remove the active account."""
    server = fresh_server
    sign_up_first_user(viewport, page, server, f"journey-{viewport.name}@example.com")
    screenshot(page, viewport, "journey-empty")

    # first paper account: becomes the active one
    main = sandbox.mint_account("paper", cash="100000")
    main_id = add_account_via_form(viewport, page, "Main", main)
    expect(by_id(page, "active-account")).to_have_attribute("data-account-id", main_id)
    expect(by_id(page, "account-nickname")).to_have_text("Main")
    header_badge = by_id(page, "active-account").get_by_test_id("env-badge")
    expect(header_badge).to_have_attribute("data-env", "PAPER")  # DISP-01
    expect(by_id(page, "live-banner")).to_have_count(0)
    expect_figures_of(page, sandbox, main["account_number"])

    # a second paper account; switching is by taps in the sheet
    play = sandbox.mint_account("paper", cash="2500.50")
    play_id = add_account_via_form(viewport, page, "Play", play)
    expect(by_id(page, "account-nickname")).to_have_text("Main")  # adding never switches
    switch_to(viewport, page, play_id, "Play")
    expect_figures_of(page, sandbox, play["account_number"])
    screenshot(page, viewport, "journey-switched")
    switch_to(viewport, page, main_id, "Main")
    expect_figures_of(page, sandbox, main["account_number"])

    # a market order through the ticket reaches the broker and the orders list
    received = sandbox.stats()[main["account_number"]]["orders_received"]
    market_id = place_via_ticket(viewport, page, "AAPL", "2")
    assert sandbox.stats()[main["account_number"]]["orders_received"] == received + 1
    screenshot(page, viewport, "journey-ticket-placed")
    go(viewport, page, "orders")
    tap(viewport, by_id(page, "orders-filter-all"))
    expect(page.locator(f'[data-testid="order-row"][data-order-id="{market_id}"]')).to_be_visible()

    # a resting limit order: cancel asks first, then the broker cancels it
    limit_id = place_via_ticket(viewport, page, "AAPL", "1", limit="1.00")
    go(viewport, page, "orders")
    tap(viewport, by_id(page, "orders-filter-open"))
    row = page.locator(f'[data-testid="order-row"][data-order-id="{limit_id}"]')
    expect(row).to_be_visible()
    tap(viewport, row.get_by_test_id("order-cancel"))
    dialog = by_id(page, "confirm-dialog")
    expect(dialog).to_be_visible()
    screenshot(page, viewport, "journey-cancel-confirm")
    tap(viewport, by_id(page, "confirm-cancel"))  # changing one's mind keeps the order
    expect(dialog).to_be_hidden()
    expect(row).to_be_visible()
    tap(viewport, row.get_by_test_id("order-cancel"))
    tap(viewport, by_id(page, "confirm-ok"))
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(0)  # no longer open
    tap(viewport, by_id(page, "orders-filter-all"))
    expect(row).to_have_attribute("data-status", "canceled")

    # remove the active account: its card goes, the server makes the other one active
    go(viewport, page, "accounts")
    card = page.locator(f'[data-testid="account-card"][data-account-id="{main_id}"]')
    tap(viewport, card.get_by_test_id("account-remove"))
    expect(by_id(page, "confirm-dialog")).to_be_visible()
    expect(by_id(page, "confirm-dialog")).to_contain_text("Main")
    tap(viewport, by_id(page, "confirm-ok"))
    expect(card).to_have_count(0)
    expect(by_id(page, "account-card")).to_have_count(1)
    expect(by_id(page, "active-account")).to_have_attribute("data-account-id", play_id)
    expect(by_id(page, "account-nickname")).to_have_text("Play")
    expect_figures_of(page, sandbox, play["account_number"])
