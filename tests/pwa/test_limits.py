"""Limits, refusals and the halt in a real browser, on a phone (RISK-01, RISK-03, RISK-04).

On a 390x844 touch screen: the Limits screen sets each limit (a bad value is
refused at its field, as the server's extensions.field says), a refused ticket and
a refused chat order say which limit refused them and by how much, Halt asks
first and then shows the halted banner on every page, Resume lifts it; loosening
a live account's limit after the sign-in went stale asks for the password again
and goes ahead. axe-clean (no serious or critical violation), no CSP violation.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import asyncpg
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import PASSWORD, RunningServer, unique_email
from tests.pwa.conftest import off_thread
from tests.pwa.helpers import (
    VIEWPORTS,
    Seeded,
    Viewport,
    by_id,
    gql,
    open_app,
    place_from_ticket,
    screenshot,
    seed_user,
    settle,
    sign_in,
    tap,
)

SERIOUS = {"serious", "critical"}
REFUSED = re.compile(
    r"Refused by your max order size: \$5,000 limit, this order \$[\d,]+(\.\d\d)?\."
)
OPEN_ORDERS = """query($a: UUID!) { orders(accountId: $a, status: OPEN, limit: 50) { id } }"""
LIMITS = """query($a: UUID!) { account(id: $a) { limits { maxOrderNotional } } }"""
SET_LIMITS = """mutation($a: UUID!, $input: AccountLimitsInput!) {
  setAccountLimits(accountId: $a, input: $input) { id } }"""
ME = "query { me { id } }"


@pytest.fixture
def viewport() -> Viewport:
    """Only the phone: these journeys are long, and the layout is the phone's."""
    return VIEWPORTS["phone"]


@pytest.fixture
def trader(pwa_server: RunningServer, sandbox: SandboxHandle) -> Iterator[Seeded]:
    user = seed_user(pwa_server, sandbox, unique_email("limits-phone"))
    user.activate(user.paper_id)
    yield user


def _csp_watch(page: Page) -> list[str]:
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    return violations


def _axe_serious(page: Page) -> list[str]:
    settle(page)  # colours as they end up, not halfway through a message's fade-in
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def _card(page: Page, account_id: str):
    return page.locator(f'[data-testid="account-card"][data-account-id="{account_id}"]')


def _age_sessions(database_url: str, user_id: str) -> None:
    """Every session of the user began 10 minutes ago: the sign-in is no longer fresh."""

    async def age() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(
                "update app.sessions set created_at = now() - interval '10 minutes'"
                " where user_id = $1",
                user_id,
            )
        finally:
            await conn.close()

    off_thread(asyncio.run, age())


def test_risk01_risk04_limits_refusals_halt_and_resume_on_a_phone(
    page: Page, context: BrowserContext, viewport: Viewport, trader: Seeded
) -> None:
    """RISK-01, RISK-04: set limits on the Limits screen; a refusal explained in the ticket
    and in the chat; Halt (confirmed) cancels the open order and shows the banner; Resume."""
    csp = _csp_watch(page)
    server = trader.server
    sign_in(context, server, trader.email)
    open_app(page, server, "accounts")

    tap(viewport, _card(page, trader.paper_id).get_by_test_id("account-limits"))
    expect(by_id(page, "limits-page")).to_have_attribute("data-account-id", trader.paper_id)
    by_id(page, "limit-maxOrderNotional").fill("-5")
    tap(viewport, by_id(page, "limits-save"))
    refused = page.locator('[data-testid="field-error"][data-field="maxOrderNotional"]')
    expect(refused).to_be_visible()
    by_id(page, "limit-maxOrderNotional").fill("5000")
    by_id(page, "limit-maxOrdersPerDay").fill("20")
    by_id(page, "limit-deniedSymbols").fill("tsla, nflx")
    by_id(page, "limit-allowShort").select_option("false")
    tap(viewport, by_id(page, "limits-save"))
    expect(by_id(page, "toast")).to_contain_text("Limits of Main saved")
    expect(by_id(page, "limit-deniedSymbols")).to_have_value("TSLA, NFLX")
    expect(by_id(page, "brake-suspendTrade")).to_have_attribute("data-value", "false")
    assert not _axe_serious(page), _axe_serious(page)
    screenshot(page, viewport, "limits")

    page.goto(f"{server.url}/#/trade?symbol=AAPL")
    by_id(page, "ticket-qty").fill("40")
    place_from_ticket(viewport, page)
    explained = by_id(page, "form-error")
    expect(explained).to_have_attribute("data-code", "LIMIT_EXCEEDED")
    expect(explained).to_have_text(REFUSED)
    screenshot(page, viewport, "ticket-refused")

    page.goto(f"{server.url}/#/chat")
    by_id(page, "chat-input").fill("buy 40 AAPL")
    tap(viewport, by_id(page, "chat-send"))
    said = by_id(page, "tool-refusal").last
    expect(said).to_have_attribute("data-guard", "max_order_notional")
    expect(said).to_have_text(REFUSED)
    assert not _axe_serious(page), _axe_serious(page)

    page.goto(f"{server.url}/#/accounts")
    tap(viewport, _card(page, trader.paper_id).get_by_test_id("account-halt"))
    expect(by_id(page, "confirm-dialog")).to_contain_text(
        "Cancel every open order and block new orders on Main (PAPER)?"
    )
    tap(viewport, by_id(page, "confirm-ok"))
    banner = by_id(page, "halted-banner")
    expect(banner).to_contain_text("Trading halted on Main —")
    expect(_card(page, trader.paper_id).get_by_test_id("account-halted-tag")).to_be_visible()
    assert gql(context, server, OPEN_ORDERS, {"a": trader.paper_id})["orders"] == []
    page.goto(f"{server.url}/#/portfolio")
    expect(banner).to_be_visible()
    assert not _axe_serious(page), _axe_serious(page)
    screenshot(page, viewport, "halted")

    tap(viewport, by_id(page, "halted-resume"))
    expect(banner).to_have_count(0)
    expect(by_id(page, "toast")).to_contain_text("Trading resumed on Main")
    assert not csp, csp


def test_risk03_loosening_a_live_limit_asks_to_sign_in_again_and_retries(
    page: Page, context: BrowserContext, viewport: Viewport, trader: Seeded
) -> None:
    """RISK-03: on a live account with a stale sign-in, clearing a limit is answered with
    FRESH_SIGN_IN_REQUIRED; the screen explains it, signs in with the password and saves."""
    csp = _csp_watch(page)
    server = trader.server
    trader.call(SET_LIMITS, {"a": trader.live_id, "input": {"maxOrderNotional": "100"}})
    sign_in(context, server, trader.email)
    _age_sessions(server.database_url, gql(context, server, ME)["me"]["id"])
    page.goto(f"{server.url}/#/limits?account={trader.live_id}")
    expect(by_id(page, "limit-maxOrderNotional")).to_have_value("100")

    by_id(page, "limit-maxOrderNotional").fill("")
    tap(viewport, by_id(page, "limits-save"))
    expect(by_id(page, "fresh-signin-reason")).to_contain_text("live account")
    assert not _axe_serious(page), _axe_serious(page)
    by_id(page, "fresh-signin-password").fill(PASSWORD)
    tap(viewport, by_id(page, "fresh-signin-submit"))
    expect(by_id(page, "toast")).to_contain_text("Limits of Real money saved")
    expect(by_id(page, "fresh-signin-dialog")).to_have_count(0)
    limits = gql(context, server, LIMITS, {"a": trader.live_id})["account"]["limits"]
    assert limits["maxOrderNotional"] is None
    assert not csp, csp
