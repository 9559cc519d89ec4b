"""The chat on a phone and on a desktop: a plain command becomes an order
proposal that is confirmed with a tap and lands in the orders list (MOB-03,
CHAT-01, TRADE-01, TRADE-02)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.pwa.helpers import (
    MIN_TARGET,
    Seeded,
    Viewport,
    ask_to_buy,
    by_id,
    go,
    open_app,
    screenshot,
    sign_in,
    tap,
)


def test_chat_proposal_confirmed_with_a_tap_reaches_the_orders_list(
    chat_user: Seeded,
    context: BrowserContext,
    page: Page,
    viewport: Viewport,
    sandbox: SandboxHandle,
) -> None:
    """MOB-03, CHAT-01, CHAT-03, TRADE-02: the composer is on screen, the proposal names
    the account and waits; nothing reaches the broker until Confirm is tapped, then one
    order, which the orders list shows (no reload); the conversation survives a reload."""
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server, "chat")
    page.evaluate("() => { window.__sameDocument = true; }")
    expect(by_id(page, "chat-account")).to_contain_text("Main")
    composer_box = by_id(page, "chat-input").bounding_box()
    assert composer_box and composer_box["y"] + composer_box["height"] <= viewport.height

    received = sandbox.stats()[chat_user.paper_number]["orders_received"]
    card = ask_to_buy(viewport, page)  # typed at once: the history may still be loading
    expect(card).to_have_attribute("data-status", "PENDING")
    expect(page.locator('[data-testid="chat-messages"] [aria-busy="true"]')).to_have_count(0)
    expect(card).to_have_attribute("data-env", "PAPER")
    expect(card.get_by_test_id("proposal-summary")).to_contain_text("AAPL")
    expect(card.get_by_test_id("proposal-account")).to_contain_text("Main")
    confirm = card.get_by_test_id("proposal-confirm")
    box = confirm.bounding_box()
    assert box and box["width"] >= MIN_TARGET and box["height"] >= MIN_TARGET
    assert sandbox.stats()[chat_user.paper_number]["orders_received"] == received
    screenshot(page, viewport, "chat-proposal")

    tap(viewport, confirm)
    expect(card).to_have_attribute("data-status", "CONFIRMED")
    expect(card.get_by_test_id("proposal-status")).to_contain_text("Confirmed")
    assert sandbox.stats()[chat_user.paper_number]["orders_received"] == received + 1

    go(viewport, page, "orders")
    tap(viewport, by_id(page, "orders-filter-all"))
    # the resting limit order of the seed, and the chat's market order
    expect(by_id(page, "order-row").filter(has_text="AAPL")).to_have_count(2)
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"

    # the conversation is kept per account (chatHistory): after a reload the
    # proposal is there again, in its current status
    page.reload()
    go(viewport, page, "chat")
    expect(by_id(page, "chat-message").filter(has_text="buy 1 AAPL").first).to_be_visible()
    expect(by_id(page, "proposal-card").last).to_have_attribute("data-status", "CONFIRMED")
