"""Every screen, on a phone and on a desktop: screenshots, accessibility (axe-core),
and on the phone no sideways scrolling and finger-sized targets (MOB-01, MOB-02,
ACCT-06)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer
from tests.pwa.helpers import (
    VIEWPORTS,
    Seeded,
    Viewport,
    by_id,
    go,
    horizontal_overflow,
    new_context,
    open_app,
    screenshot,
    seed_user,
    sign_in,
    small_targets,
    tap,
)

# The switcher, its options, navigation and every button that starts or
# confirms an action: what a thumb must hit (ACCT-06, MOB-02).
PRIMARY_TARGETS = ", ".join(
    [
        '[data-testid="account-switcher"]',
        '[data-testid="account-option"]',
        '[data-testid^="nav-"]',
        '[data-testid="manage-accounts"]',
        '[data-testid="dialog-close"]',
        ".btn-primary",
        ".btn-danger",
        ".btn-buy",
        ".btn-sell",
        '[data-testid="confirm-ok"]',
        '[data-testid="confirm-cancel"]',
        '[data-testid="order-cancel"]',
        '[data-testid="proposal-dismiss"]',
        '[data-testid="chat-send"]',
        '[data-testid="refresh"]',
        '[data-testid^="orders-filter-"]',
        ".segment",
    ]
)
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def user(pwa_server: RunningServer, sandbox: SandboxHandle) -> Seeded:
    return seed_user(pwa_server, sandbox, "screens@example.com")


def signed_out_screens(viewport: Viewport, page: Page, server: RunningServer) -> Iterator[str]:
    page.goto(server.url + "/")
    expect(by_id(page, "signin-form")).to_be_visible()
    yield "sign-in"
    tap(viewport, by_id(page, "show-signup"))
    expect(by_id(page, "signup-form")).to_be_visible()
    yield "sign-up"


def close_dialog(viewport: Viewport, page: Page, testid: str) -> None:
    tap(viewport, by_id(page, testid).get_by_test_id("dialog-close").first)
    expect(by_id(page, testid)).to_be_hidden()


def signed_in_screens(
    viewport: Viewport, page: Page, context: BrowserContext, user: Seeded
) -> Iterator[str]:
    """Walks through every screen; yields its name while it is shown."""
    user.activate(user.paper_id)
    sign_in(context, user.server, user.email)
    open_app(page, user.server)
    expect(by_id(page, "position-row").first).to_be_visible()
    expect(by_id(page, "cash")).to_have_attribute("data-value", re.compile(r"\d"))
    yield "portfolio"

    tap(viewport, by_id(page, "account-switcher"))
    expect(by_id(page, "account-sheet")).to_be_visible()
    yield "switcher"
    close_dialog(viewport, page, "account-sheet")

    go(viewport, page, "orders")
    expect(by_id(page, "order-row").first).to_be_visible()
    yield "orders"
    tap(viewport, by_id(page, "order-cancel").first)
    expect(by_id(page, "confirm-dialog")).to_be_visible()
    yield "cancel-order-confirm"
    tap(viewport, by_id(page, "confirm-cancel"))
    expect(by_id(page, "confirm-dialog")).to_be_hidden()

    tap(viewport, by_id(page, "new-order"))
    expect(by_id(page, "order-ticket")).to_be_visible()
    by_id(page, "ticket-type").select_option("STOP_LIMIT")
    yield "ticket"

    go(viewport, page, "chat")
    expect(by_id(page, "chat-input")).to_be_visible()
    expect(page.locator('[data-testid="chat-messages"] [aria-busy="true"]')).to_have_count(0)
    yield "chat"

    go(viewport, page, "accounts")
    expect(by_id(page, "account-card")).to_have_count(2)
    yield "accounts"
    tap(viewport, by_id(page, "add-account"))
    expect(by_id(page, "account-form")).to_be_visible()
    tap(viewport, by_id(page, "account-env-live"))
    expect(by_id(page, "live-warning")).to_be_visible()
    yield "add-account"
    close_dialog(viewport, page, "account-form-dialog")

    user.activate(user.live_id)
    page.reload()
    expect(by_id(page, "live-banner")).to_be_visible()
    go(viewport, page, "portfolio")
    expect(by_id(page, "positions-empty")).to_be_visible()
    yield "live-portfolio"


@dataclass
class Findings:
    """What one screen showed at one size."""

    screenshot: Path
    axe: list[str] = field(default_factory=list)  # serious or critical violations
    overflow: int = 0  # CSS px of sideways scrolling
    small: list[str] = field(default_factory=list)  # primary targets under 44x44 px


def walk(browser: Browser, viewport: Viewport, user: Seeded) -> dict[str, Findings]:
    """Visit every screen once at this size and record what the tests check."""
    axe = Axe()
    findings: dict[str, Findings] = {}
    errors: list[str] = []

    def check(name: str, on: Page) -> None:
        picture = screenshot(on, viewport, name)  # waits for animations to end
        results = axe.run(on).response["violations"]
        findings[name] = Findings(
            screenshot=picture,
            axe=[
                f"{v['id']} ({v['impact']}): {v['help']} at "
                + "; ".join(str(n["target"][0]) for n in v["nodes"][:3])
                for v in results
                if v["impact"] in SERIOUS
            ],
            overflow=horizontal_overflow(on),
            small=small_targets(on.locator(PRIMARY_TARGETS)),
        )

    for signed_in in (False, True):
        context = new_context(browser, viewport, reduced_motion="no-preference")
        try:
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            screens = (
                signed_in_screens(viewport, page, context, user)
                if signed_in
                else signed_out_screens(viewport, page, user.server)
            )
            for name in screens:
                check(name, page)
        finally:
            context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    return findings


@pytest.fixture(scope="module")
def tours(browser: Browser, user: Seeded) -> dict[str, dict[str, Findings]]:
    """Each size walked once; the tests below judge what was seen."""
    return {name: walk(browser, VIEWPORTS[name], user) for name in ("phone", "desktop")}


SCREENS = {
    "sign-in", "sign-up", "portfolio", "switcher", "orders", "cancel-order-confirm",
    "ticket", "chat", "accounts", "add-account", "live-portfolio",
}  # fmt: skip


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_screenshots_of_every_screen(tours: dict[str, dict[str, Findings]], size: str) -> None:
    """MOB-01: every screen renders at 390x844 (touch) and 1280x800; the pictures are
    under test-artifacts/screenshots/."""
    assert set(tours[size]) == SCREENS
    for found in tours[size].values():
        assert found.screenshot.stat().st_size > 5_000, found.screenshot


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_no_serious_accessibility_violations(
    tours: dict[str, dict[str, Findings]], size: str
) -> None:
    """MOB-01: axe-core finds no serious or critical violation on any screen."""
    violations = {name: found.axe for name, found in tours[size].items() if found.axe}
    assert not violations, violations


def test_no_screen_scrolls_sideways_on_a_phone(tours: dict[str, dict[str, Findings]]) -> None:
    """MOB-01: at 390 px wide, documentElement.scrollWidth <= innerWidth on every screen."""
    wide = {name: found.overflow for name, found in tours["phone"].items() if found.overflow > 0}
    assert not wide, f"screens wider than 390 px (extra px): {wide}"


def test_switcher_and_primary_buttons_fit_a_finger(
    tours: dict[str, dict[str, Findings]],
) -> None:
    """ACCT-06, MOB-02: on a phone the switcher, its options, the navigation and the
    primary buttons measure at least 44x44 CSS px."""
    assert "account-option" in PRIMARY_TARGETS
    small = {name: found.small for name, found in tours["phone"].items() if found.small}
    assert not small, f"targets under 44x44 px: {small}"
