"""What a trader notices in the first ten minutes, on a phone and a desktop: each
test would have caught one thing a new user tripped over (MOB-01..04, ACCT-03,
ACCT-06, DISP-01..04, CHAT-01..03)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import PASSWORD, RunningServer, signed_up_user
from tests.pwa.helpers import (
    ADD_ACCOUNT,
    MIN_TARGET,
    VIEWPORTS,
    Seeded,
    Viewport,
    by_id,
    go,
    new_context,
    open_app,
    seed_user,
    sign_in,
    small_targets,
    tap,
)


@pytest.fixture(scope="module")
def traders(pwa_server: RunningServer, sandbox: SandboxHandle) -> dict[str, Seeded]:
    """One seeded user per viewport for the whole module (sign-ups are rate limited)."""
    return {
        name: seed_user(pwa_server, sandbox, f"first-minutes-{name}@example.com")
        for name in VIEWPORTS
    }


@pytest.fixture
def chat_user(traders: dict[str, Seeded], viewport: Viewport) -> Seeded:
    """This viewport's user, with the paper account active."""
    user = traders[viewport.name]
    user.activate(user.paper_id)
    return user


@pytest.fixture(scope="module")
def newcomer(pwa_server: RunningServer) -> str:
    """The email of a person who has not connected any account."""
    email = "first-minutes-newcomer@example.com"
    signed_up_user(pwa_server, email)
    return email


REMOVE_ACCOUNT = "mutation Remove($id: UUID!) { removeAccount(id: $id) }"
AUTO_EXECUTE = """mutation Auto($id: UUID!, $on: Boolean!) {
  setChatAutoExecute(id: $id, enabled: $on) { id } }"""


def send(page: Page, text: str) -> None:
    """Type a chat message and press Enter, as a person would."""
    composer = by_id(page, "chat-input")
    composer.fill(text)
    composer.press("Enter")
    mine = page.locator('[data-testid="chat-message"][data-role="USER"]').filter(has_text=text)
    expect(mine.last).to_be_visible()


def last_tool(page: Page, tool: str):
    result = page.locator(f'[data-testid="tool-result"][data-tool="{tool}"]').last
    expect(result).to_be_visible(timeout=15_000)
    return result


def test_bug02_own_switch_is_not_announced_as_another_devices(
    chat_user: Seeded, browser: Browser, context: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """Bug 2, ACCT-03, MOB-02: the device that switches the account is not told it changed
    "on another device"; the user's other device still is."""
    server = chat_user.server
    sign_in(context, server, chat_user.email)
    open_app(page, server)
    other_context = new_context(browser, viewport)
    try:
        sign_in(other_context, server, chat_user.email)
        other = other_context.new_page()
        open_app(other, server)
        expect(by_id(other, "account-nickname")).to_have_text("Main")
        expect(by_id(page, "cash")).to_have_attribute("data-value", re.compile(r"\d"))

        tap(viewport, by_id(page, "account-switcher"))
        option = f'[data-testid="account-option"][data-account-id="{chat_user.live_id}"]'
        tap(viewport, page.locator(option))
        expect(by_id(page, "account-nickname")).to_have_text("Real money")

        expect(by_id(other, "toast")).to_contain_text("changed on another device")
        expect(by_id(other, "account-nickname")).to_have_text("Real money")
        page.wait_for_timeout(1500)  # the event has reached this device too by now
        expect(page.get_by_text("another device")).to_have_count(0)
    finally:
        other_context.close()
        chat_user.activate(chat_user.paper_id)


def test_bug05_enter_sends_and_shift_enter_breaks_the_line(
    chat_user: Seeded, context: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """Bug 5, MOB-03, CHAT-01: the keyboard's "Send" key (Enter) sends, on a phone too;
    Shift+Enter is a new line."""
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server, "chat")
    composer = by_id(page, "chat-input")
    expect(composer).to_have_attribute("enterkeyhint", "send")
    composer.fill("orders")
    composer.press("Shift+Enter")
    expect(composer).to_have_value("orders\n")
    composer.fill("positions")
    composer.press("Enter")
    expect(composer).to_have_value("")
    expect(
        page.locator('[data-testid="chat-message"][data-role="USER"]').filter(has_text="positions")
    ).not_to_have_count(0)
    expect(last_tool(page, "positions")).to_be_visible()


def test_bug06_chat_recovers_its_history_when_the_connection_returns(
    chat_user: Seeded, context: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """Bug 6, CHAT-03, MOB-04: a conversation that could not load offline loads when the
    connection returns, and the offline message goes away, without a reload."""
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server, "chat")
    send(page, "balance")
    last_tool(page, "account_summary")
    go(viewport, page, "portfolio")

    context.set_offline(True)
    go(viewport, page, "chat")
    expect(by_id(page, "chat-error")).to_contain_text("offline")
    context.set_offline(False)
    expect(by_id(page, "chat-error")).to_have_count(0)
    expect(by_id(page, "chat-message").filter(has_text="balance").first).to_be_visible()
    expect(by_id(page, "chat-input")).to_be_enabled()


def test_bug07_wrong_password_says_so(chat_user: Seeded, page: Page, viewport: Viewport) -> None:
    """Bug 7, MOB-01: a wrong password or unknown email shows the API's "Wrong email or
    password", never "Your session has ended"."""
    page.goto(chat_user.server.url + "/")
    for email, password in (
        (chat_user.email, "not the password"),
        ("nobody@example.com", PASSWORD),
    ):
        by_id(page, "signin-email").fill(email)
        by_id(page, "signin-password").fill(password)
        tap(viewport, by_id(page, "signin-submit"))
        error = by_id(page, "auth-error")
        expect(error).to_have_text("Wrong email or password")
        expect(page.get_by_text("session has ended")).to_have_count(0)
    expect(by_id(page, "signin-form")).to_be_visible()


def test_bug13_the_tab_bar_lights_the_page_shown(
    chat_user: Seeded, context: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """Bug 13, MOB-01: on the New order page no tab claims to be shown; back on Orders,
    Orders is lit."""
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server)
    tap(viewport, by_id(page, "open-ticket"))
    expect(by_id(page, "order-ticket")).to_be_visible()
    expect(page.locator('[data-testid="nav"] [aria-current="page"]')).to_have_count(0)
    go(viewport, page, "orders")
    tap(viewport, by_id(page, "new-order"))
    expect(by_id(page, "order-ticket")).to_be_visible()
    expect(page.locator('[data-testid="nav"] [aria-current="page"]')).to_have_count(0)


def test_bug11_a_person_without_accounts_is_told_how_to_start(
    pwa_server: RunningServer,
    newcomer: str,
    context: BrowserContext,
    page: Page,
    viewport: Viewport,
) -> None:
    """Bug 11, MOB-01, DISP-01: with no account, every account page explains paper
    accounts, where the keys come from (paper first) and the sandbox's demo keys, inside
    the page's margins."""
    sign_in(context, pwa_server, newcomer)
    for route in ("portfolio", "orders", "chat", "trade"):
        open_app(page, pwa_server, route)
        empty = by_id(page, "no-account")
        expect(empty).to_contain_text("paper")
        expect(empty).to_contain_text("app.alpaca.markets")
        expect(empty).to_contain_text("demo keys")
        expect(page.get_by_text("No account selected")).to_have_count(0)
        box = empty.bounding_box()
        assert box is not None
        width = page.evaluate("() => document.getElementById('main').clientWidth")
        left = page.evaluate("() => document.getElementById('main').getBoundingClientRect().left")
        assert box["x"] - left >= 8 and left + width - (box["x"] + box["width"]) >= 8, (route, box)
    tap(viewport, by_id(page, "no-account-add"))
    expect(by_id(page, "accounts-page")).to_be_visible()


def test_bug04_tool_results_read_as_sentences_with_the_raw_data_behind_details(
    chat_user: Seeded, context: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """Bug 4, CHAT-01, MOB-03: the account summary and a quote read formatted (money, signed
    change as a percent); the raw values are behind a "Details" disclosure; a scrollable
    table is reachable by keyboard."""
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server, "chat")
    send(page, "balance")
    summary = last_tool(page, "account_summary")
    readable = summary.get_by_test_id("tool-summary")
    expect(readable).to_contain_text(re.compile(r"Cash\s*\$[\d,]+\.\d\d"))
    expect(readable).to_contain_text("Buying power")
    expect(readable).to_contain_text(re.compile(r"[+\u2212]?\d+\.\d\d%|0\.00%"))
    expect(readable).not_to_contain_text("day change percent")
    details = summary.get_by_test_id("tool-details")
    expect(details.locator("summary")).to_have_text("Details")
    expect(details.locator("pre")).to_be_hidden()
    tap(viewport, details.locator("summary"))
    expect(details.locator("pre")).to_contain_text('"buying_power"')

    send(page, "quote AAPL")
    expect(last_tool(page, "quote").get_by_test_id("tool-summary")).to_contain_text(
        re.compile(r"AAPL\s*bid \$[\d,]+\.\d\d · ask \$[\d,]+\.\d\d")
    )

    send(page, "positions")
    table = last_tool(page, "positions").locator(".table-wrap")
    expect(table).to_have_attribute("tabindex", "0")
    expect(table).to_have_attribute("aria-label", re.compile("Positions"))
    expect(table).to_contain_text("$150.00")  # AAPL's average entry price, to the cent
    meta = page.locator(".msg-assistant .msg-meta").last
    ratio = page.evaluate(CONTRAST, meta.element_handle())
    assert ratio >= 4.5, ratio


# WCAG contrast of an element's text against the first opaque background behind it.
CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92
    : ((v + 0.055) / 1.055) ** 2.4; }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  let bg = el;
  while (bg && rgb(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement;
  const fg = rgb(getComputedStyle(el).color);
  const back = rgb(getComputedStyle(bg || document.body).backgroundColor);
  const opacity = Number(getComputedStyle(el).opacity);
  const mixed = fg.slice(0, 3).map((v, i) => v * opacity + back[i] * (1 - opacity));
  const [a, b] = [lum(mixed), lum(back)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_numbers_statuses_and_balances_read_the_same_everywhere(
    chat_user: Seeded, context: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """DISP-01..03, ACCT-06, MOB-02: the day change is labelled Today; orders say
    "Working"; the switcher and the accounts list show each account's balance and a total
    per environment (paper and live never added); positions show their total P/L; the
    auto-execute switch is a 44 px target and the chat bar says when it is on."""
    chat_user.call(AUTO_EXECUTE, {"id": chat_user.paper_id, "on": False})
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server)
    expect(by_id(page, "day-change")).to_contain_text("Today")
    expect(by_id(page, "positions-total-pl")).to_have_attribute("data-value", re.compile(r"\d"))

    tap(viewport, by_id(page, "account-switcher"))
    sheet = by_id(page, "account-sheet")
    balances = sheet.get_by_test_id("account-option-balance")
    expect(balances).to_have_count(2)
    for i in range(2):
        expect(balances.nth(i)).to_contain_text(re.compile(r"\$[\d,]+\.\d\d"))
    total = sheet.get_by_test_id("switcher-total")
    expect(total.locator('[data-total-env="PAPER"]')).to_contain_text("1 account")
    expect(total.locator('[data-total-env="LIVE"]')).to_contain_text("$1,000.00")
    tap(viewport, sheet.get_by_test_id("dialog-close"))

    go(viewport, page, "orders")
    resting = page.locator(f'[data-order-id="{chat_user.resting_order_id}"]')
    expect(resting.get_by_test_id("order-status")).to_have_text("Working")

    go(viewport, page, "accounts")
    expect(by_id(page, "account-balance")).to_have_count(2)
    expect(by_id(page, "accounts-total").locator('[data-total-env="LIVE"]')).to_have_attribute(
        "data-value", re.compile(r"^1000(\.0+)?$")
    )
    toggle = by_id(page, "auto-execute-toggle")
    assert not small_targets(toggle), small_targets(toggle)
    tap(viewport, toggle)
    expect(toggle).to_be_checked()
    go(viewport, page, "chat")
    expect(by_id(page, "chat-auto-execute")).to_be_visible()
    chat_user.call(AUTO_EXECUTE, {"id": chat_user.paper_id, "on": False})


def test_desktop_positions_table_sorts(
    chat_user: Seeded, context: BrowserContext, page: Page, viewport: Viewport
) -> None:
    """MOB-01, DISP-02: on a desktop the positions are one table, sorted by a click on a
    column; on a phone they stay a list of cards."""
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server)
    if viewport.phone:
        expect(by_id(page, "positions-list")).to_be_visible()
        expect(by_id(page, "positions-table")).to_have_count(0)
        return
    rows = by_id(page, "positions-table").get_by_test_id("position-row")
    expect(rows).to_have_count(2)
    tap(viewport, by_id(page, "sort-symbol"))
    expect(rows.first).to_have_attribute("data-symbol", "AAPL")
    tap(viewport, by_id(page, "sort-symbol"))
    expect(rows.first).to_have_attribute("data-symbol", "MSFT")
    header = page.locator("th[aria-sort]")
    expect(header).to_have_attribute("aria-sort", "descending")


@pytest.mark.parametrize("size", ["150%", "200%"])
def test_large_text_keeps_the_header_readable(
    chat_user: Seeded, context: BrowserContext, page: Page, viewport: Viewport, size: str
) -> None:
    """MOB-01, DISP-01..03: with the root font at 150 % and 200 % no header figure is split
    across lines, the account's name stays visible, and the header does not change height
    when the day change does."""
    sign_in(context, chat_user.server, chat_user.email)
    open_app(page, chat_user.server)
    expect(by_id(page, "cash")).to_have_attribute("data-value", re.compile(r"\d"))
    page.evaluate(f"() => {{ document.documentElement.style.fontSize = '{size}'; }}")
    for testid in ("cash", "equity", "buying-power", "day-change"):
        lines = page.evaluate(
            """(id) => { const el = document.querySelector(`[data-testid="${id}"]`);
              const r = document.createRange(); r.selectNodeContents(el);
              return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }""",
            testid,
        )
        assert lines == 1, (testid, lines)
    name = by_id(page, "account-nickname").bounding_box()
    assert name and name["width"] >= MIN_TARGET / 2, name
    header = by_id(page, "active-account")
    # the market clock's line joins the header when its own query answers: measured after
    expect(by_id(page, "market-clock")).to_be_visible()
    before = header.bounding_box()
    page.evaluate(
        """() => { const el = document.querySelector('[data-testid="day-change"]');
          el.lastChild.textContent = ' +$123,456.78 (+12.34%)'; }"""
    )
    after = header.bounding_box()
    assert before and after and before["height"] == after["height"]


def test_graphiql_without_internet_says_so(
    pwa_server: RunningServer, context: BrowserContext, viewport: Viewport
) -> None:
    """MOB-01: when GraphiQL's scripts cannot load, its page says so and shows curl,
    instead of "Loading..." forever. (Not the `page` fixture: GraphiQL's own start-up
    script fails without its library, which is the point.)"""
    page = context.new_page()
    page.route("https://unpkg.com/**", lambda route: route.abort())
    page.goto(pwa_server.url + "/graphql")
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("GraphiQL could not load")
    expect(notice).to_contain_text("curl")
    expect(page.get_by_text("Loading...")).to_have_count(0)


@pytest.fixture
def revoked(chat_user: Seeded, sandbox: SandboxHandle) -> Iterator[Seeded]:
    """The user with a third, active paper account whose keys the test revokes; removed after.
    (Last in the module: the other tests count the user's two accounts.)"""
    keys = sandbox.mint_account(
        "paper", cash="5000", positions=[{"symbol": "AAPL", "qty": "2", "avg_entry_price": "150"}]
    )
    added = chat_user.call(
        ADD_ACCOUNT,
        {
            "input": {
                "nickname": "Revoked",
                "environment": "PAPER",
                "apiKeyId": keys["api_key_id"],
                "secretKey": keys["secret_key"],
            }
        },
    )
    account_id = added["addAccount"]["id"]
    chat_user.activate(account_id)
    yield replace(chat_user, paper_id=account_id, paper_number=keys["account_number"])
    chat_user.call(REMOVE_ACCOUNT, {"id": account_id})
    chat_user.activate(chat_user.paper_id)


def test_bug08_refused_keys_show_the_account_unhealthy_everywhere(
    revoked: Seeded,
    sandbox: SandboxHandle,
    context: BrowserContext,
    page: Page,
    viewport: Viewport,
) -> None:
    """Bug 8, DISP-02, ACCT-06: once the broker refuses the account's keys the header's
    figures are marked not live, one sentence says so with a way to replace the keys, the
    positions are the last ones seen (marked saved), nothing shows the broker's raw words,
    and the account card says the keys stopped working."""
    sign_in(context, revoked.server, revoked.email)
    open_app(page, revoked.server)
    expect(by_id(page, "position-row").first).to_be_visible()
    expect(by_id(page, "keys-refused")).to_have_count(0)

    sandbox.revoke(revoked.paper_number)
    page.reload()
    banner = by_id(page, "keys-refused")
    expect(banner).to_contain_text("stopped working")
    expect(by_id(page, "cash")).to_have_class(re.compile("is-stale"))
    expect(by_id(page, "position-row").first).to_be_visible()
    expect(by_id(page, "list-cached")).to_be_visible()
    expect(page.get_by_text("not authorized")).to_have_count(0)
    expect(page.get_by_text("stopped working")).to_have_count(1)  # said once

    tap(viewport, by_id(page, "keys-refused-replace"))
    expect(by_id(page, "account-form-dialog")).to_be_visible()
    tap(viewport, by_id(page, "account-form-dialog").get_by_test_id("dialog-close"))
    card = page.locator(f'[data-testid="account-card"][data-account-id="{revoked.paper_id}"]')
    expect(card.get_by_test_id("account-keys-refused")).to_be_visible()
    expect(card).not_to_contain_text("Keys verified")
