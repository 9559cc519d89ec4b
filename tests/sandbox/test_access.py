"""OPS-03: keys, environments, market data and rate-limit headers of the sandbox broker."""

from __future__ import annotations

import httpx
import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.requests import StockLatestQuoteRequest, StockLatestTradeRequest

from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.clients import auth_headers, make_data_client, make_trading_client

UNAUTHORIZED = {"code": 40110000, "message": "request is not authorized"}


def test_ops03_minted_keys_have_alpaca_shapes(sandbox: SandboxHandle) -> None:
    paper = sandbox.mint_account("paper")
    live = sandbox.mint_account("live")
    for keys, prefix in ((paper, "PK"), (live, "AK")):
        key_id, secret = keys["api_key_id"], keys["secret_key"]
        assert key_id.startswith(prefix) and len(key_id) == 20
        assert key_id[2:].isalnum() and key_id[2:] == key_id[2:].upper()
        assert len(secret) == 40 and secret.isalnum()
    assert paper["account_number"] != live["account_number"]


@pytest.mark.parametrize(("minted", "used"), [("paper", "live"), ("live", "paper")])
def test_ops03_keys_only_work_in_their_environment(
    sandbox: SandboxHandle, minted: str, used: str
) -> None:
    keys = sandbox.mint_account(minted)
    assert make_trading_client(sandbox, keys, minted).get_account().status == "ACTIVE"
    with pytest.raises(APIError) as refused:
        make_trading_client(sandbox, keys, used).get_account()
    assert refused.value.status_code == 401
    response = httpx.get(f"{sandbox.trading_url(used)}/v2/account", headers=auth_headers(keys))
    assert response.json() == UNAUTHORIZED


def test_ops03_missing_wrong_and_revoked_keys_are_refused(sandbox: SandboxHandle) -> None:
    keys = sandbox.mint_account()
    url = f"{sandbox.paper_url}/v2/account"
    assert httpx.get(url).status_code == 401
    wrong = {**auth_headers(keys), "APCA-API-SECRET-KEY": keys["secret_key"][::-1]}
    assert httpx.get(url, headers=wrong).json() == UNAUTHORIZED
    assert httpx.get(url, headers=auth_headers(keys)).status_code == 200
    sandbox.revoke(keys["account_number"])
    revoked = httpx.get(url, headers=auth_headers(keys))
    assert (revoked.status_code, revoked.json()) == (401, UNAUTHORIZED)


def test_ops03_every_answer_carries_rate_limit_headers(sandbox: SandboxHandle) -> None:
    keys = sandbox.mint_account()
    for url in (f"{sandbox.paper_url}/v2/account", f"{sandbox.paper_url}/v2/assets/NOPE"):
        response = httpx.get(url, headers=auth_headers(keys))
        assert response.headers["X-RateLimit-Limit"] == "200"
        assert int(response.headers["X-RateLimit-Remaining"]) < 200
        assert int(response.headers["X-RateLimit-Reset"]) > 0
    assert "X-RateLimit-Limit" in httpx.get(f"{sandbox.paper_url}/v2/account").headers


@pytest.mark.parametrize("environment", ["paper", "live"])
def test_ops03_latest_quote_and_trade_with_either_environment(
    sandbox: SandboxHandle, environment: str
) -> None:
    sandbox.set_price("SPY", "555.55")
    data = make_data_client(sandbox, sandbox.mint_account(environment))
    quotes = data.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols=["SPY", "QQQ"]))
    assert set(quotes) == {"SPY", "QQQ"}
    assert quotes["SPY"].bid_price < 555.55 < quotes["SPY"].ask_price
    trades = data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="SPY"))
    assert trades["SPY"].price == 555.55


def test_ops03_single_symbol_market_data_endpoints(sandbox: SandboxHandle) -> None:
    headers = auth_headers(sandbox.mint_account())
    quote = httpx.get(f"{sandbox.data_url}/v2/stocks/AAPL/quotes/latest", headers=headers)
    assert quote.json()["symbol"] == "AAPL" and quote.json()["quote"]["ap"] > 0
    trade = httpx.get(f"{sandbox.data_url}/v2/stocks/AAPL/trades/latest", headers=headers)
    assert trade.json()["trade"]["p"] > 0
    unknown = httpx.get(f"{sandbox.data_url}/v2/stocks/XYZQ/quotes/latest", headers=headers)
    assert unknown.status_code == 404
    assert httpx.get(f"{sandbox.data_url}/v2/stocks/AAPL/quotes/latest").status_code == 401
