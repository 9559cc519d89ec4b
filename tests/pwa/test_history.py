"""History and market views in a real browser, on a phone and on a desktop.

HIST-01 (the portfolio chart renders its points, with profit and loss), HIST-02
(the activity feed and its CSV), HIST-03 (the symbol page from a position tap,
search by company name, watchlist add and remove), HIST-04 (the market clock
and the closed-market notice on an order), MOB-01 (both sizes, axe-clean, no
CSP violation). The first-load size check keeps the charts out of the first
paint's budget (docs/architecture.md, "Performance budget").
"""

from __future__ import annotations

import gzip
import re
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer
from tests.pwa.conftest import off_thread
from tests.pwa.helpers import (
    SCREENSHOTS,
    Seeded,
    Viewport,
    by_id,
    open_app,
    place_from_ticket,
    seed_user,
    settle,
    sign_in,
    tap,
)

PWA = Path(__file__).resolve().parents[2] / "pwa"
BUDGET_BYTES = 150 * 1024
SERIOUS = {"serious", "critical"}


def _csp_watch(page: Page) -> list[str]:
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    return violations


def _axe_serious(page: Page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in SERIOUS]


def _points(page: Page, testid: str) -> int:
    """The points the chart drew, once it drew some: read in the same moment it is seen, as
    a chart redrawn for another period is a new element without its count for a while."""
    drawn = page.wait_for_function(
        """(id) => {
          const n = Number(document.querySelector(`[data-testid="${id}"]`)?.dataset.points);
          return n > 0 ? n : false;
        }""",
        arg=testid,
        timeout=15_000,
    )
    return int(drawn.json_value())


def _phone_picture(page: Page, viewport: Viewport, name: str) -> None:
    if viewport.phone:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        settle(page)
        page.screenshot(path=str(SCREENSHOTS / f"history-{name}.png"), scale="css")


def test_hist01_hist03_charts_symbol_page_search_and_watchlist(
    page: Page, context: BrowserContext, viewport: Viewport, trader: Seeded
) -> None:
    csp = _csp_watch(page)
    sign_in(context, trader.server, trader.email)
    open_app(page, trader.server)
    assert _points(page, "portfolio-chart-plot") >= 1
    expect(by_id(page, "portfolio-chart-plot-summary")).to_contain_text("Portfolio value")
    expect(by_id(page, "portfolio-pl")).to_have_attribute("data-value", re.compile(r"\d"))
    tap(viewport, by_id(page, "portfolio-period-1w"))
    expect(by_id(page, "portfolio-period-1w")).to_have_attribute("aria-pressed", "true")
    assert _points(page, "portfolio-chart-plot") >= 1
    assert not _axe_serious(page), _axe_serious(page)
    _phone_picture(page, viewport, "portfolio")

    row = page.locator('[data-testid="position-row"][data-symbol="AAPL"]')
    tap(viewport, row.get_by_test_id("symbol-link"))
    symbol = by_id(page, "symbol-page")
    expect(symbol).to_have_attribute("data-symbol", "AAPL")
    expect(by_id(page, "symbol-name")).to_contain_text("Apple Inc.")
    expect(by_id(page, "symbol-ask")).to_contain_text(re.compile(r"\d"))
    assert _points(page, "symbol-chart") > 5
    expect(by_id(page, "symbol-chart-summary")).to_contain_text(re.compile(r"(up|down|unchanged)"))
    expect(by_id(page, "symbol-position")).to_contain_text("10 shares")
    expect(by_id(page, "symbol-open-orders")).to_contain_text("Buy")
    expect(by_id(page, "symbol-buy")).to_have_attribute("href", re.compile(r"symbol=AAPL&side=BUY"))
    assert not _axe_serious(page), _axe_serious(page)
    _phone_picture(page, viewport, "symbol")

    watch = by_id(page, "watch-toggle")
    tap(viewport, watch)
    expect(watch).to_have_attribute("aria-pressed", "true")
    open_app(page, trader.server)
    expect(page.locator('[data-testid="watchlist-row"][data-symbol="AAPL"]')).to_be_visible()

    search = by_id(page, "symbol-search")
    search.fill("tesla")
    first = by_id(page, "search-result").first
    expect(first).to_have_attribute("data-symbol", "TSLA")
    search.fill("apple")
    expect(by_id(page, "search-result").first).to_have_attribute("data-symbol", "AAPL")
    tap(viewport, by_id(page, "search-result").first)
    expect(by_id(page, "symbol-page")).to_have_attribute("data-symbol", "AAPL")
    tap(viewport, by_id(page, "watch-toggle"))
    expect(by_id(page, "watch-toggle")).to_have_attribute("aria-pressed", "false")
    open_app(page, trader.server)
    expect(by_id(page, "watchlist-empty")).to_be_visible()
    assert not csp, csp


def test_hist02_hist04_activity_csv_and_the_closed_market(
    page: Page,
    context: BrowserContext,
    viewport: Viewport,
    trader: Seeded,
    sandbox: SandboxHandle,
) -> None:
    csp = _csp_watch(page)
    off_thread(sandbox.pay_dividend, trader.paper_number, "AAPL", "0.25")
    sign_in(context, trader.server, trader.email)
    open_app(page, trader.server, "activity")
    dividend = page.locator('[data-testid="activity-row"][data-kind="DIV"]').first
    expect(dividend).to_contain_text("AAPL")
    link = by_id(page, "activity-csv")
    expect(link).to_have_attribute("download", re.compile(r"\.csv$"))
    with page.expect_download(timeout=30_000) as downloading:
        tap(viewport, link)
    csv = Path(downloading.value.path()).read_text()
    assert csv.startswith('"time","kind","symbol"') and '"DIV","AAPL"' in csv
    assert not _axe_serious(page), _axe_serious(page)

    expect(by_id(page, "market-clock")).to_have_attribute("data-open", "true")
    off_thread(sandbox.set_market_open, False)
    open_app(page, trader.server, "trade?symbol=KO&side=BUY")
    page.reload()
    expect(by_id(page, "market-clock")).to_have_attribute("data-open", "false")
    expect(by_id(page, "market-clock")).to_contain_text("Market closed")
    by_id(page, "ticket-qty").fill("1")
    place_from_ticket(viewport, page)
    expect(by_id(page, "ticket-result")).to_be_visible()
    expect(by_id(page, "closed-market-notice")).to_contain_text("will work from the next open")
    assert not csp, csp


def test_first_load_stays_within_the_budget_without_the_charts() -> None:
    """The shell's stylesheet and preloaded modules, gzip -9 each, stay under 150 KB; uPlot
    is loaded only when a chart first renders."""
    index = (PWA / "index.html").read_text()
    files = re.findall(r'<link rel="(?:modulepreload|stylesheet)" href="\./([^"]+)"', index)
    files += re.findall(r'<script type="module" src="\./([^"]+)"', index)
    assert files and not any("uPlot" in f for f in files)
    size = sum(len(gzip.compress((PWA / f).read_bytes(), 9)) for f in set(files))
    charts = sum(
        len(gzip.compress((PWA / "vendor" / f).read_bytes(), 9))
        for f in ("uPlot.esm.js", "uPlot.min.css")
    )
    print(f"first load: {size} bytes gzipped; charts on first use: {charts} bytes")
    assert size + charts < BUDGET_BYTES, "the budget counts the charts too"


@pytest.fixture
def trader(pwa_server: RunningServer, sandbox: SandboxHandle) -> Seeded:
    """A user of the shared server of its own, whose paper account is active."""
    user = seed_user(pwa_server, sandbox, f"history-{uuid.uuid4().hex[:12]}@example.com")
    user.activate(user.paper_id)
    return user
