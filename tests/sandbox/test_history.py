"""The sandbox's history and market views through alpaca-py, as the product reads them.

HIST-01 (portfolio history follows the account's equity), HIST-02 (fills and
dividends as activities, paged), HIST-03 (bars from the price walk, the same for
the same seed), HIST-04 (the calendar shows a half day and the clock closes
early on it); ISO-02 (watchlists and activities are the key's own account's).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import (
    CreateWatchlistRequest,
    GetCalendarRequest,
    GetPortfolioHistoryRequest,
    MarketOrderRequest,
)
from starlette.testclient import TestClient

from api.sandbox import create_sandbox_app
from api.sandbox.app import mint_demo_accounts
from api.sandbox.clock import market_today
from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.clients import auth_headers, make_data_client, make_trading_client


def _buy(trading: TradingClient, symbol: str, qty: int) -> None:
    trading.submit_order(
        MarketOrderRequest(symbol=symbol, qty=qty, side="buy", time_in_force="day")
    )


def test_hist01_portfolio_history_ends_at_the_accounts_equity(
    sandbox: SandboxHandle, trading: TradingClient, paper_keys: dict[str, str]
) -> None:
    _buy(trading, "KO", 3)
    history = trading.get_portfolio_history(
        GetPortfolioHistoryRequest(period="1D", timeframe="1Min")
    )
    equity = Decimal(str(sandbox.account(paper_keys["account_number"])["equity"]))
    assert history.timeframe == "1Min"
    assert history.timestamp == sorted(history.timestamp) and history.timestamp
    assert abs(Decimal(repr(history.equity[-1])) - equity) < Decimal("1")
    assert history.base_value is not None
    assert history.profit_loss[-1] == pytest.approx(history.equity[-1] - history.base_value)
    month = trading.get_portfolio_history(GetPortfolioHistoryRequest(period="1M"))
    assert month.timeframe == "1D" and len(month.timestamp) == 1, "an account minted today"


def test_hist01_unknown_period_or_timeframe_is_refused(trading: TradingClient) -> None:
    for request in (
        GetPortfolioHistoryRequest(period="1Q"),
        GetPortfolioHistoryRequest(period="1W", timeframe="2Min"),
    ):
        with pytest.raises(APIError) as refused:
            trading.get_portfolio_history(request)
        assert refused.value.status_code == 422


def test_hist02_fills_and_dividends_are_activities_paged_newest_first(
    sandbox: SandboxHandle, paper_keys: dict[str, str], trading: TradingClient
) -> None:
    for qty in (1, 2, 3):
        _buy(trading, "MSFT", qty)
    sandbox.pay_dividend(paper_keys["account_number"], "AAPL", "0.25")
    http = httpx.Client(base_url=sandbox.paper_url, headers=auth_headers(paper_keys))
    with http:
        first = http.get("/v2/account/activities", params={"page_size": 2}).json()
        rest = http.get(
            "/v2/account/activities", params={"page_size": 10, "page_token": first[-1]["id"]}
        ).json()
        oldest = http.get("/v2/account/activities", params={"direction": "asc"}).json()
    listed = first + rest
    assert [a["activity_type"] for a in listed] == ["DIV", "FILL", "FILL", "FILL"]
    assert listed[0]["net_amount"] == "2.50" and listed[0]["symbol"] == "AAPL"
    assert [a["qty"] for a in listed[1:]] == ["3", "2", "1"]
    assert oldest == list(reversed(listed))
    cash = Decimal(sandbox.account(paper_keys["account_number"])["cash"])
    paid = sum(Decimal(a["price"]) * Decimal(a["qty"]) for a in listed[1:])
    assert cash == Decimal("100000") - paid.quantize(Decimal("0.01")) + Decimal("2.50")


def test_iso02_activities_and_watchlists_are_the_keys_own(sandbox: SandboxHandle) -> None:
    alice = make_trading_client(sandbox, sandbox.mint_account())
    bob_keys = sandbox.mint_account()
    bob = make_trading_client(sandbox, bob_keys)
    _buy(alice, "KO", 1)
    mine = alice.create_watchlist(CreateWatchlistRequest(name="Primary Watchlist", symbols=["KO"]))
    assert bob.get_watchlists() == []
    with pytest.raises(APIError) as hidden:
        bob.get_watchlist_by_id(mine.id)
    assert hidden.value.status_code == 404
    with httpx.Client(base_url=sandbox.paper_url, headers=auth_headers(bob_keys)) as http:
        assert http.get("/v2/account/activities").json() == []
    added = alice.add_asset_to_watchlist_by_id(mine.id, "TSLA")
    assert [a.symbol for a in added.assets or []] == ["KO", "TSLA"]
    removed = alice.remove_asset_from_watchlist_by_id(mine.id, "KO")
    assert [a.symbol for a in removed.assets or []] == ["TSLA"]


@pytest.mark.parametrize(
    "timeframe",
    [
        TimeFrame(1, TimeFrameUnit.Minute),
        TimeFrame(15, TimeFrameUnit.Minute),
        TimeFrame(1, TimeFrameUnit.Hour),
        TimeFrame(1, TimeFrameUnit.Day),
    ],
    ids=str,
)
def test_hist03_bars_parse_in_alpaca_py_and_end_at_the_price(
    sandbox: SandboxHandle, paper_keys: dict[str, str], timeframe: TimeFrame
) -> None:
    data = make_data_client(sandbox, paper_keys)
    start = datetime.now(UTC) - timedelta(days=20)
    request = StockBarsRequest(symbol_or_symbols=["AAPL", "KO"], timeframe=timeframe, start=start)
    bars = data.get_stock_bars(request).data
    for symbol in ("AAPL", "KO"):
        listed = bars[symbol]
        assert len(listed) > 5
        assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in listed)
        assert [b.timestamp for b in listed] == sorted(b.timestamp for b in listed)
    # a price pinned now is the close of the newest bar (the price walk ends at it)
    sandbox.set_price("KO", "61.37")
    newest = data.get_stock_bars(
        StockBarsRequest(symbol_or_symbols="KO", timeframe=timeframe, start=start)
    ).data["KO"][-1]
    assert newest.close == pytest.approx(61.37)


def test_hist03_bars_are_the_same_for_the_same_seed_and_page() -> None:
    def bars(seed: int, **params: str) -> dict[str, Any]:
        app = create_sandbox_app(seed=seed, tick_seconds=0)
        keys = mint_demo_accounts(app, 1)[0]
        query = {"timeframe": "1Day", "start": "2020-01-01T00:00:00Z", **params}
        with TestClient(app) as http:
            answer = http.get("/data/v2/stocks/NVDA/bars", headers=auth_headers(keys), params=query)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    one, same, other = bars(7), bars(7), bars(8)
    assert one == same and one["bars"] != other["bars"]
    page = bars(7, limit="10")
    assert page["bars"] == one["bars"][:10]
    following = bars(7, limit="10", page_token=page["next_page_token"])
    assert following["bars"] == one["bars"][10:20]


def test_hist04_calendar_shows_half_days_and_the_clock_closes_early(
    sandbox: SandboxHandle, trading: TradingClient
) -> None:
    days = trading.get_calendar(GetCalendarRequest(start="2025-11-26", end="2025-11-28"))
    assert [(d.date.isoformat(), d.close.strftime("%H:%M")) for d in days] == [
        ("2025-11-26", "16:00"),
        ("2025-11-28", "13:00"),
    ], "Thanksgiving is closed, the day after closes at 13:00"
    sandbox.set_half_day(True)
    try:
        today = market_today()  # New York's date, as the sandbox's half day is
        [entry] = trading.get_calendar(GetCalendarRequest(start=today, end=today)) or [None]
        if entry is not None:  # today is a trading day
            assert entry.close.strftime("%H:%M") == "13:00"
        clock = trading.get_clock()
        early_close = datetime.combine(today, time(18, 0), UTC)
        if datetime.now(UTC) < early_close:
            assert clock.next_close.astimezone(UTC) == early_close
        else:  # today closed at 18:00, not at 20:00: the next close is another day's
            assert clock.next_close.astimezone(UTC).date() > today
    finally:
        sandbox.set_half_day(False)
