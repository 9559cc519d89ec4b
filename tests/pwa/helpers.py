"""What the PWA tests repeat: viewports, taps, sign-in, checks and screenshots.

Everything here acts through the browser (or, to set the scene quickly, through
the server's public GraphQL API); nothing reaches into the server's process.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.fixtures.server import PASSWORD, RunningServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
MIN_TARGET = 44  # CSS px, ACCT-06 / WCAG 2.5.5


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    phone: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def context_options(self) -> dict[str, Any]:
        # One device pixel per CSS pixel and reduced motion: what is laid out, tapped and
        # read is the same, and Chromium's software rendering costs far less. The screens
        # test renders with motion, as most people see the app.
        options: dict[str, Any] = {
            "viewport": {"width": self.width, "height": self.height},
            "reduced_motion": "reduce",
            # the offline and push tests let the service worker in; elsewhere it would only
            # download the whole shell again for every test's fresh profile
            "service_workers": "block",
        }
        if self.phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=1)
        return {**options, **self.extra}


VIEWPORTS = {
    "phone": Viewport("phone", 390, 844, phone=True),
    "desktop": Viewport("desktop", 1280, 800, phone=False),
}


def tap(viewport: Viewport, target: Locator) -> None:
    """A finger tap on phones (touch events), a mouse click on desktop."""
    if viewport.phone:
        target.tap()
    else:
        target.click()


def by_id(page: Page, testid: str) -> Locator:
    return page.get_by_test_id(testid)


# ── signing in ──────────────────────────────────────────────────────────────
SIGN_IN = """mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { user { id } } }"""


def gql(
    context: BrowserContext, server: RunningServer, query: str, variables: dict | None = None
) -> dict:
    """A GraphQL call with the context's own cookie (as the PWA would send it)."""
    response = context.request.post(
        server.graphql_url,
        data=json.dumps({"query": query, "variables": variables or {}}),
        headers={"content-type": "application/json", "origin": server.url},
    )
    assert response.ok, response.text()
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def sign_in(
    context: BrowserContext, server: RunningServer, email: str, password: str = PASSWORD
) -> None:
    """Give the context a session cookie (the sign-in screen itself is tested in the journey)."""
    gql(context, server, SIGN_IN, {"email": email, "password": password})


def open_app(page: Page, server: RunningServer, route: str = "portfolio") -> None:
    page.goto(f"{server.url}/#/{route}")
    expect(by_id(page, "app")).to_be_visible()


def go(viewport: Viewport, page: Page, route: str) -> None:
    """Navigate with the app's own navigation (no reload)."""
    tap(viewport, by_id(page, f"nav-{route}"))
    expect(by_id(page, f"nav-{route}")).to_have_attribute("aria-current", "page")


def value_of(page: Page, testid: str) -> Decimal:
    locator = by_id(page, testid)
    expect(locator).to_have_attribute("data-value", re.compile(r"\d"))
    return Decimal(locator.get_attribute("data-value") or "")


def expect_value(page: Page, testid: str, expected: str | Decimal, timeout: float = 10_000) -> None:
    """The element's data-value equals `expected` as a number ("100000" == "100000.00")."""
    wanted = Decimal(str(expected))
    page.wait_for_function(
        """([id, wanted]) => {
          const el = document.querySelector(`[data-testid="${id}"]`);
          const v = el && el.getAttribute('data-value');
          return !!v && Number(v) === Number(wanted);
        }""",
        arg=[testid, str(wanted)],
        timeout=timeout,
    )
    assert Decimal(by_id(page, testid).get_attribute("data-value") or "") == wanted


def ask_to_buy(viewport: Viewport, page: Page, text: str = "buy 1 AAPL") -> Locator:
    """Send `text`; returns the proposal card of the reply."""
    composer = by_id(page, "chat-input")
    expect(composer).to_be_visible()
    composer.fill(text)
    tap(viewport, by_id(page, "chat-send"))
    mine = page.locator('[data-testid="chat-message"][data-role="USER"]').filter(has_text=text)
    expect(mine.last).to_be_visible()
    card = by_id(page, "proposal-card").last
    expect(card).to_be_visible(timeout=15_000)
    return card


def place_from_ticket(viewport: Viewport, page: Page) -> None:
    """Send the filled-in ticket: its button opens the review, whose Place order sends."""
    tap(viewport, by_id(page, "ticket-submit"))
    expect(by_id(page, "ticket-review")).to_be_visible()
    tap(viewport, by_id(page, "ticket-place"))


def new_context(browser: Browser, viewport: Viewport, **extra: Any) -> BrowserContext:
    context = browser.new_context(**{**viewport.context_options(), **extra})
    context.set_default_timeout(10_000)
    return context


# ── checks ──────────────────────────────────────────────────────────────────
def settle(page: Page) -> None:
    """Wait for finite animations (a sheet sliding in, a value's flash) to end, so
    colours and boxes are measured as the user finally sees them."""
    page.evaluate(
        """() => Promise.all(document.getAnimations()
              .filter((a) => a.effect?.getComputedTiming().endTime !== Infinity)
              .map((a) => a.finished.catch(() => null)))"""
    )


def screenshot(page: Page, viewport: Viewport, screen: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{viewport.name}-{screen}.png"
    settle(page)
    page.screenshot(path=str(path), animations="disabled", caret="initial")
    return path


def horizontal_overflow(page: Page) -> int:
    """How many CSS px the page scrolls sideways (0 = none)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - innerWidth"
    )


def small_targets(locator: Locator) -> list[str]:
    """Visible elements of `locator` smaller than 44x44 CSS px."""
    small = []
    for i in range(locator.count()):
        element = locator.nth(i)
        if not element.is_visible():
            continue
        box = element.bounding_box()
        assert box is not None
        if box["width"] < MIN_TARGET - 0.5 or box["height"] < MIN_TARGET - 0.5:
            label = element.get_attribute("data-testid") or element.inner_text()[:30]
            small.append(f"{label!r}: {box['width']:.0f}x{box['height']:.0f}")
    return small


# ── a user with accounts, set up through the API ────────────────────────────
ADD_ACCOUNT = """mutation Add($input: AddAccountInput!) { addAccount(input: $input) { id } }"""
SET_ACTIVE = """mutation Active($id: UUID!) { setActiveAccount(id: $id) { id } }"""
CONFIRM_ORDER = """mutation Confirm($p: UUID!) { confirmOrder(proposalId: $p) { id status } }"""
PLACE_ORDER = (
    """mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }"""
)


@dataclass
class Seeded:
    """A signed-up user with a PAPER account (positions, a resting order) and a LIVE one."""

    server: RunningServer
    email: str
    token: str
    paper_id: str
    paper_number: str
    live_id: str
    live_number: str
    resting_order_id: str

    def call(self, query: str, variables: dict | None = None) -> dict:
        response = self.server.gql(query, variables, token=self.token)
        assert "errors" not in response, response
        return response["data"]

    def activate(self, account_id: str) -> None:
        self.call(SET_ACTIVE, {"id": account_id})


def seed_user(server: RunningServer, sandbox: Any, email: str) -> Seeded:
    from tests.fixtures.server import signed_up_user

    token = signed_up_user(server, email)

    def add(nickname: str, environment: str, **mint: Any) -> tuple[str, str]:
        keys = sandbox.mint_account(environment.lower(), **mint)
        data = server.gql(
            ADD_ACCOUNT,
            {
                "input": {
                    "nickname": nickname,
                    "environment": environment,
                    "apiKeyId": keys["api_key_id"],
                    "secretKey": keys["secret_key"],
                }
            },
            token=token,
        )
        assert "errors" not in data, data
        return data["data"]["addAccount"]["id"], keys["account_number"]

    paper_id, paper_number = add(
        "Main",
        "PAPER",
        cash="25000",
        positions=[
            {"symbol": "AAPL", "qty": "10", "avg_entry_price": "150"},
            {"symbol": "MSFT", "qty": "3", "avg_entry_price": "400"},
        ],
    )
    live_id, live_number = add("Real money", "LIVE", cash="1000")
    order = server.gql(
        PLACE_ORDER,
        {
            "input": {
                "accountId": paper_id,
                "symbol": "AAPL",
                "side": "BUY",
                "type": "LIMIT",
                "qty": "1",
                "limitPrice": "1.00",
                "timeInForce": "GTC",
            }
        },
        token=token,
    )
    if order.get("errors"):
        # A limit this far from the market asks to be confirmed first (ORD-01), on paper too.
        (error,) = order["errors"]
        assert error["extensions"]["code"] == "CONFIRMATION_REQUIRED", order
        proposal_id = error["extensions"]["proposal"]["id"]
        confirmed = server.gql(CONFIRM_ORDER, {"p": proposal_id}, token=token)
        assert "errors" not in confirmed, confirmed
        order = {"data": {"placeOrder": confirmed["data"]["confirmOrder"]}}
    return Seeded(
        server,
        email,
        token,
        paper_id,
        paper_number,
        live_id,
        live_number,
        order["data"]["placeOrder"]["id"],
    )
