"""A LIVE account is unmistakable and never trades without an explicit
confirmation (DISP-01, DISP-04, TRADE-02), on a phone and on a desktop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer
from tests.pwa.helpers import (
    Seeded,
    Viewport,
    by_id,
    go,
    open_app,
    place_from_ticket,
    screenshot,
    seed_user,
    sign_in,
    tap,
)


@pytest.fixture(scope="module")
def user(pwa_server: RunningServer, sandbox: SandboxHandle) -> Seeded:
    return seed_user(pwa_server, sandbox, "live@example.com")


@pytest.fixture
def signed_in(user: Seeded, context: BrowserContext) -> Iterator[BrowserContext]:
    sign_in(context, user.server, user.email)
    yield context


def test_live_account_shows_red_banner_and_paper_does_not(
    user: Seeded, signed_in: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """DISP-01, DISP-04: LIVE shows a red banner and a LIVE badge on every page; PAPER neither."""
    user.activate(user.paper_id)
    open_app(page, user.server)
    expect(by_id(page, "app")).to_have_attribute("data-env", "PAPER")
    expect(by_id(page, "live-banner")).to_have_count(0)

    user.activate(user.live_id)
    page.reload()
    expect(by_id(page, "app")).to_have_attribute("data-env", "LIVE")
    for route in ("portfolio", "orders", "chat", "accounts"):
        go(viewport, page, route)
        banner = by_id(page, "live-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("LIVE")
        badge = by_id(page, "active-account").get_by_test_id("env-badge")
        expect(badge).to_have_attribute("data-env", "LIVE")
        expect(badge).to_have_text("LIVE")
    # red: the banner's background is clearly red (R high, G and B low)
    red, green, blue = page.evaluate(
        """() => getComputedStyle(document.querySelector('[data-testid="live-banner"]'))
              .backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"""
    )
    assert red > 150 and green < 90 and blue < 90, (red, green, blue)


def test_live_order_needs_confirmation_before_reaching_the_broker(
    user: Seeded, signed_in: BrowserContext, page: Page, viewport: Viewport, sandbox: SandboxHandle
) -> None:
    """TRADE-02, DISP-04: the ticket on a LIVE account answers with a proposal; the
    broker receives nothing until the user confirms, then exactly one order."""
    user.activate(user.live_id)
    open_app(page, user.server, "trade")
    ticket = by_id(page, "order-ticket")
    expect(ticket.get_by_test_id("ticket-account").get_by_test_id("env-badge")).to_have_attribute(
        "data-env", "LIVE"
    )
    by_id(page, "ticket-symbol").fill("AAPL")
    by_id(page, "ticket-qty").fill("1")
    before = sandbox.stats()[user.live_number]["orders_received"]
    submit = by_id(page, "ticket-submit")
    expect(submit).to_contain_text("LIVE")
    place_from_ticket(viewport, page)

    card = by_id(page, "proposal-card")
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-env", "LIVE")
    expect(card).to_have_attribute("data-status", "PENDING")
    expect(by_id(page, "proposal-summary")).to_contain_text("AAPL")
    expect(by_id(page, "proposal-account")).to_contain_text("Real money")
    screenshot(page, viewport, "live-proposal")
    assert sandbox.stats()[user.live_number]["orders_received"] == before, "sent before confirming"

    tap(viewport, by_id(page, "proposal-confirm"))
    expect(card).to_have_attribute("data-status", "CONFIRMED")
    expect(by_id(page, "proposal-status")).to_contain_text("Confirmed")
    assert sandbox.stats()[user.live_number]["orders_received"] == before + 1
