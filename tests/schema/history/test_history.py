"""The history and market views in-process, against the sandbox broker.

HIST-01 (portfolio history with profit and loss, equal to the sandbox's),
HIST-02 (activities newest first, fills and dividends), HIST-03 (bars, quotes,
the symbol search by company name, the watchlist), HIST-04 (the market clock
and an early close), ISO-02 and TRADE-03/04 (another person's account is
NOT_FOUND; one account's watchlist is not another's).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from tests.fixtures.inprocess import AddedAccount, InProcessApp, SignedInUser, codes
from tests.sandbox.clients import auth_headers

HISTORY = """query($a: UUID, $p: String! = "1D", $t: String) {
  portfolioHistory(accountId: $a, period: $p, timeframe: $t) {
    period timeframe baseValue profitLoss profitLossPercent note
    points { at equity profitLoss profitLossPercent } } }"""
ACTIVITIES = """query($a: UUID, $limit: Int! = 50) {
  activities(accountId: $a, limit: $limit) { id kind symbol side qty price netAmount at } }"""
BARS = """query($a: UUID, $s: String!, $t: String! = "1Day", $limit: Int! = 30) {
  bars(accountId: $a, symbol: $s, timeframe: $t, limit: $limit) {
    at open high low close volume } }"""
QUOTE = """query($a: UUID, $s: String!) {
  quote(accountId: $a, symbol: $s) { symbol bidPrice askPrice at } }"""
SYMBOLS = """query($a: UUID, $q: String!, $limit: Int! = 10) {
  symbols(accountId: $a, query: $q, limit: $limit) { symbol name exchange tradable } }"""
WATCHLIST = """query($a: UUID) {
  watchlist(accountId: $a) { name entries { symbol name quote { bidPrice askPrice } } } }"""
ADD = """mutation($a: UUID, $s: String!) {
  addToWatchlist(accountId: $a, symbol: $s) { entries { symbol } } }"""
REMOVE = """mutation($a: UUID, $s: String!) {
  removeFromWatchlist(accountId: $a, symbol: $s) { entries { symbol } } }"""
CLOCK = """query($a: UUID) {
  marketClock(accountId: $a) { isOpen nextOpen nextClose todayClose closesEarly } }"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }"""
CHAT = """mutation($text: String!, $a: UUID) {
  sendChatMessage(text: $text, accountId: $a) {
    reply { text proposals { symbol qty side } toolCalls { name } } } }"""


async def _trader(app: InProcessApp, **mint: Any) -> tuple[SignedInUser, AddedAccount]:
    user = await app.sign_up()
    return user, await app.add_paper_account(user.token, **mint)


async def _buy(app: InProcessApp, user: SignedInUser, account: AddedAccount, symbol: str) -> None:
    order = {"accountId": account.id, "symbol": symbol, "side": "BUY", "qty": "2"}
    await app.data(PLACE, {"input": order}, token=user.token)


def _sandbox_get(app: InProcessApp, account: AddedAccount, path: str, **params: str) -> Any:
    with httpx.Client(base_url=app.sandbox.paper_url, headers=auth_headers(account.keys)) as http:
        answer = http.get(path, params=params)
    answer.raise_for_status()
    return answer.json()


def _field(response: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (e["extensions"]["code"], e["extensions"].get("field")) for e in response["errors"] or []
    ]


async def test_hist01_portfolio_history_is_the_sandboxs_equity_with_profit_and_loss(
    app: InProcessApp,
) -> None:
    alice, account = await _trader(app)
    # a pinned price keeps equity still between our read and the sandbox's
    await asyncio.to_thread(app.sandbox.set_price, "AAPL", "190.00")
    await _buy(app, alice, account, "AAPL")
    data = await app.data(HISTORY, {"a": account.id, "t": "1Min"}, token=alice.token)
    history = data["portfolioHistory"]
    raw = await asyncio.to_thread(
        _sandbox_get, app, account, "/v2/account/portfolio/history", period="1D", timeframe="1Min"
    )
    assert history["period"] == "1D" and history["timeframe"] == "1Min"
    points = history["points"]
    assert points, "a new account has today's points"
    assert [p["equity"] for p in points[:-1]] == [format(e, ".2f") for e in raw["equity"][:-1]]
    base = Decimal(history["baseValue"])
    assert base == Decimal(str(raw["base_value"]))
    for point in points:
        assert Decimal(point["profitLoss"]) == Decimal(point["equity"]) - base
    assert history["profitLoss"] == points[-1]["profitLoss"] and history["note"] is None
    month = await app.data(HISTORY, {"a": account.id, "p": "1M"}, token=alice.token)
    assert month["portfolioHistory"]["timeframe"] == "1D"


async def test_hist01_unknown_period_or_timeframe_is_bad_user_input(app: InProcessApp) -> None:
    alice, account = await _trader(app)
    wrong_period = await app.gql(HISTORY, {"a": account.id, "p": "1Y"}, token=alice.token)
    assert _field(wrong_period) == [("BAD_USER_INPUT", "period")]
    wrong_frame = await app.gql(HISTORY, {"a": account.id, "t": "2Min"}, token=alice.token)
    assert _field(wrong_frame) == [("BAD_USER_INPUT", "timeframe")]


async def test_hist02_activities_are_fills_and_dividends_newest_first(app: InProcessApp) -> None:
    alice, account = await _trader(app)
    for symbol in ("KO", "MSFT", "TSLA"):
        await _buy(app, alice, account, symbol)
    await asyncio.to_thread(app.sandbox.pay_dividend, account.keys["account_number"], "KO", "0.485")
    listed = (await app.data(ACTIVITIES, {"a": account.id}, token=alice.token))["activities"]
    assert [(a["kind"], a["symbol"]) for a in listed] == [
        ("DIV", "KO"),
        ("FILL", "TSLA"),
        ("FILL", "MSFT"),
        ("FILL", "KO"),
    ]
    assert listed[0]["netAmount"] == "0.97" and listed[0]["price"] == "0.485"
    fill = listed[1]
    assert fill["side"] == "buy" and fill["qty"] == "2"
    assert Decimal(fill["netAmount"]) == -2 * Decimal(fill["price"])
    two = await app.data(ACTIVITIES, {"a": account.id, "limit": 2}, token=alice.token)
    assert two["activities"] == listed[:2]
    huge = await app.gql(ACTIVITIES, {"a": account.id, "limit": 100_000}, token=alice.token)
    assert _field(huge) == [("BAD_USER_INPUT", "limit")]


async def test_hist03_bars_end_at_the_price_and_unknown_symbols_are_refused(
    app: InProcessApp,
) -> None:
    alice, account = await _trader(app)
    await asyncio.to_thread(app.sandbox.set_price, "NVDA", "123.45")
    bars = (await app.data(BARS, {"a": account.id, "s": "nvda"}, token=alice.token))["bars"]
    assert len(bars) == 30
    assert [b["at"] for b in bars] == sorted(b["at"] for b in bars)
    assert bars[-1]["close"] == "123.45"
    hourly = await app.data(BARS, {"a": account.id, "s": "NVDA", "t": "1Hour", "limit": 7},
                            token=alice.token)  # fmt: skip
    assert len(hourly["bars"]) == 7
    unknown = await app.gql(BARS, {"a": account.id, "s": "ZZZZ"}, token=alice.token)
    assert _field(unknown) == [("BAD_USER_INPUT", "symbol")]
    frame = await app.gql(BARS, {"a": account.id, "s": "NVDA", "t": "2Day"}, token=alice.token)
    assert _field(frame) == [("BAD_USER_INPUT", "timeframe")]
    huge = await app.gql(BARS, {"a": account.id, "s": "NVDA", "limit": 10**6}, token=alice.token)
    assert _field(huge) == [("BAD_USER_INPUT", "limit")]


async def test_hist03_quote_and_symbol_search_by_company_name(app: InProcessApp) -> None:
    alice, account = await _trader(app)
    pinned = await asyncio.to_thread(app.sandbox.set_price, "KO", "61.00")
    quote = (await app.data(QUOTE, {"a": account.id, "s": "KO"}, token=alice.token))["quote"]
    assert (quote["bidPrice"], quote["askPrice"]) == (pinned["bid"], pinned["ask"])
    for query, first in (("apple", "AAPL"), ("Tesla", "TSLA"), ("coca", "KO"), ("MSF", "MSFT")):
        found = await app.data(SYMBOLS, {"a": account.id, "q": query}, token=alice.token)
        assert found["symbols"][0]["symbol"] == first, query
    apple = await app.data(SYMBOLS, {"a": account.id, "q": "apple"}, token=alice.token)
    assert apple["symbols"][0]["name"] == "Apple Inc. Common Stock"
    nothing = await app.data(SYMBOLS, {"a": account.id, "q": "zzzzqq"}, token=alice.token)
    assert nothing == {"symbols": []}
    unknown = await app.gql(QUOTE, {"a": account.id, "s": "ZZZZ"}, token=alice.token)
    assert _field(unknown) == [("BAD_USER_INPUT", "symbol")]


async def test_hist03_watchlist_add_and_remove_per_account(app: InProcessApp) -> None:
    alice, main = await _trader(app)
    side = await app.add_paper_account(alice.token, "Side")
    empty = await app.data(WATCHLIST, {"a": main.id}, token=alice.token)
    assert empty["watchlist"]["entries"] == []
    await app.data(ADD, {"a": main.id, "s": "aapl"}, token=alice.token)
    added = await app.data(ADD, {"a": main.id, "s": "TSLA"}, token=alice.token)
    assert [e["symbol"] for e in added["addToWatchlist"]["entries"]] == ["AAPL", "TSLA"]
    shown = (await app.data(WATCHLIST, {"a": main.id}, token=alice.token))["watchlist"]
    assert shown["name"] == "Primary Watchlist"
    assert [(e["symbol"], e["name"]) for e in shown["entries"]] == [
        ("AAPL", "Apple Inc. Common Stock"),
        ("TSLA", "Tesla, Inc. Common Stock"),
    ]
    assert all(e["quote"]["askPrice"] for e in shown["entries"]), "quotes, in one batch"
    removed = await app.data(REMOVE, {"a": main.id, "s": "AAPL"}, token=alice.token)
    assert [e["symbol"] for e in removed["removeFromWatchlist"]["entries"]] == ["TSLA"]
    other = await app.data(WATCHLIST, {"a": side.id}, token=alice.token)
    assert other["watchlist"]["entries"] == [], "another account's list is its own"
    unknown = await app.gql(ADD, {"a": main.id, "s": "ZZZZ"}, token=alice.token)
    assert _field(unknown) == [("BAD_USER_INPUT", "symbol")]


async def test_hist04_market_clock_open_closed_and_early_close(app: InProcessApp) -> None:
    alice, account = await _trader(app)
    opened = (await app.data(CLOCK, {"a": account.id}, token=alice.token))["marketClock"]
    assert opened["isOpen"] is True and opened["closesEarly"] is False
    await asyncio.to_thread(app.sandbox.set_market_open, False)
    await asyncio.to_thread(app.sandbox.set_half_day, True)
    try:
        closed = (await app.data(CLOCK, {"a": account.id}, token=alice.token))["marketClock"]
    finally:
        await asyncio.to_thread(app.sandbox.set_half_day, False)
    assert closed["isOpen"] is False and closed["nextOpen"] > opened["nextClose"][:10]
    if closed["todayClose"] is not None:  # today is a trading day
        assert closed["closesEarly"] is True


async def test_iso02_another_persons_account_is_not_found_everywhere(app: InProcessApp) -> None:
    _, account = await _trader(app)
    bob = await app.sign_up()
    a = account.id
    for query, variables in (
        (HISTORY, {"a": a}),
        (ACTIVITIES, {"a": a}),
        (BARS, {"a": a, "s": "AAPL"}),
        (QUOTE, {"a": a, "s": "AAPL"}),
        (SYMBOLS, {"a": a, "q": "apple"}),
        (WATCHLIST, {"a": a}),
        (ADD, {"a": a, "s": "AAPL"}),
        (REMOVE, {"a": a, "s": "AAPL"}),
        (CLOCK, {"a": a}),
    ):
        assert codes(await app.gql(query, variables, token=bob.token)) == ["NOT_FOUND"], query
        assert codes(await app.gql(query, variables)) == ["UNAUTHENTICATED"], query


async def test_hist03_the_chat_finds_a_symbol_by_company_name(app: InProcessApp) -> None:
    alice, account = await _trader(app)
    turn = await app.data(CHAT, {"text": "buy 2 apple", "a": account.id}, token=alice.token)
    reply = turn["sendChatMessage"]["reply"]
    assert reply["proposals"] == [{"symbol": "AAPL", "qty": "2", "side": "BUY"}]
    assert "I took it as Apple Inc. Common Stock (AAPL)" in reply["text"]
    assert [c["name"] for c in reply["toolCalls"]] == ["find_symbol", "propose_order"]
