"""OPS-03: alpaca-py's TradingClient works unchanged against the sandbox broker."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopOrderRequest,
)

from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.clients import make_trading_client


def _market(symbol: str, qty: float, side: OrderSide = OrderSide.BUY, **extra: object):
    return MarketOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, **extra
    )


def _far_limit(symbol: str = "NVDA", qty: float = 1, **extra: object) -> LimitOrderRequest:
    # Half the price: never crosses with the tiny random walk.
    return LimitOrderRequest(
        symbol=symbol,
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.GTC,
        limit_price=60,
        **extra,
    )


def test_ops03_account_starts_with_cash_and_positions(trading: TradingClient) -> None:
    account = trading.get_account()
    assert account.status == "ACTIVE"
    assert Decimal(account.cash) == Decimal("100000")
    assert account.buying_power == account.cash
    assert Decimal(account.equity) == Decimal(account.cash) + Decimal(account.long_market_value)
    assert account.last_equity == account.equity
    position = trading.get_open_position("AAPL")
    assert position.qty == "10"
    assert Decimal(position.avg_entry_price) == 150
    assert Decimal(position.cost_basis) == 1500
    assert [p.symbol for p in trading.get_all_positions()] == ["AAPL"]


def test_ops03_market_buy_fills_at_ask_and_moves_cash_and_position(
    trading: TradingClient, sandbox: SandboxHandle
) -> None:
    sandbox.set_price("MSFT", "400.00")
    order = trading.submit_order(_market("MSFT", 2))
    assert order.status == OrderStatus.FILLED
    assert order.filled_qty == "2"
    ask = Decimal(order.filled_avg_price)
    assert ask > Decimal("400.00")
    account = trading.get_account()
    assert Decimal(account.cash) == Decimal("100000") - 2 * ask
    position = trading.get_open_position("MSFT")
    assert position.qty == "2"
    equity = Decimal(account.cash) + Decimal(account.long_market_value)
    assert Decimal(account.equity) == equity == Decimal(account.portfolio_value)


def test_ops03_notional_market_order_buys_fractional_shares(trading: TradingClient) -> None:
    order = trading.submit_order(
        MarketOrderRequest(symbol="AMD", notional=500, side="buy", time_in_force="day")
    )
    assert order.status == OrderStatus.FILLED
    assert order.notional == "500"
    assert order.qty is None
    assert Decimal(order.filled_qty) * Decimal(order.filled_avg_price) <= 500
    assert Decimal(order.filled_qty) != Decimal(order.filled_qty).to_integral_value()


def test_ops03_limit_order_rests_then_fills_when_price_crosses(
    trading: TradingClient, sandbox: SandboxHandle
) -> None:
    sandbox.set_price("TSLA", "250.00")
    order = trading.submit_order(
        LimitOrderRequest(symbol="TSLA", qty=3, side="buy", time_in_force="gtc", limit_price=240)
    )
    assert order.status == OrderStatus.NEW
    # An open buy reserves its cost: buying power drops, cash does not.
    account = trading.get_account()
    assert Decimal(account.buying_power) == Decimal(account.cash) - 3 * 240
    sandbox.set_price("TSLA", "239.00")
    filled = trading.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert Decimal(filled.filled_avg_price) <= 240
    assert trading.get_open_position("TSLA").qty == "3"


def test_ops03_marketable_limit_fills_at_once(trading: TradingClient) -> None:
    order = trading.submit_order(
        LimitOrderRequest(symbol="KO", qty=1, side="buy", time_in_force="day", limit_price=1000)
    )
    assert order.status == OrderStatus.FILLED
    assert Decimal(order.filled_avg_price) < 1000


def test_ops03_stop_order_triggers_on_price(trading: TradingClient, sandbox: SandboxHandle) -> None:
    sandbox.set_price("AAPL", "190.00")
    order = trading.submit_order(
        StopOrderRequest(symbol="AAPL", qty=5, side="sell", time_in_force="gtc", stop_price=180)
    )
    assert order.status == OrderStatus.NEW
    assert trading.get_open_position("AAPL").qty_available == "5"
    sandbox.set_price("AAPL", "179.00")
    assert trading.get_order_by_id(order.id).status == OrderStatus.FILLED
    assert trading.get_open_position("AAPL").qty == "5"


def test_ops03_list_get_cancel_and_client_order_id(trading: TradingClient) -> None:
    client_order_id = f"test-{uuid.uuid4()}"
    resting = trading.submit_order(_far_limit(client_order_id=client_order_id))
    filled = trading.submit_order(_market("KO", 1))
    open_ids = [o.id for o in trading.get_orders()]
    assert open_ids == [resting.id]
    closed = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    assert [o.id for o in closed] == [filled.id]
    everything = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, direction="asc"))
    assert [o.id for o in everything] == [resting.id, filled.id]
    by_symbol = trading.get_orders(GetOrdersRequest(status="all", symbols=["KO"], limit=1))
    assert [o.id for o in by_symbol] == [filled.id]
    assert trading.get_order_by_client_id(client_order_id).id == resting.id
    assert trading.get_order_by_id(resting.id).client_order_id == client_order_id
    trading.cancel_order_by_id(resting.id)
    assert trading.get_order_by_id(resting.id).status == OrderStatus.CANCELED
    with pytest.raises(APIError) as not_cancelable:
        trading.cancel_order_by_id(resting.id)
    assert not_cancelable.value.status_code == 422


def test_ops03_duplicate_client_order_id_is_refused_even_after_cancel(
    sandbox: SandboxHandle, paper_keys: dict[str, str]
) -> None:
    trading = make_trading_client(sandbox, paper_keys, retries=0)
    client_order_id = f"dup-{uuid.uuid4()}"
    first = trading.submit_order(_far_limit(client_order_id=client_order_id))
    trading.cancel_order_by_id(first.id)
    with pytest.raises(APIError) as refused:
        trading.submit_order(_far_limit(client_order_id=client_order_id))
    assert refused.value.status_code == 422
    assert refused.value.code == 40010001
    assert refused.value.message == "client_order_id must be unique"
    # Another account may use the same id: uniqueness is per account.
    other = make_trading_client(sandbox, sandbox.mint_account())
    assert other.submit_order(_far_limit(client_order_id=client_order_id)).id != first.id


def test_ops03_cancel_all_orders(trading: TradingClient) -> None:
    first = trading.submit_order(_far_limit())
    second = trading.submit_order(_far_limit(symbol="AMD"))
    canceled = trading.cancel_orders()
    assert {c.id for c in canceled} == {first.id, second.id}
    assert all(c.status == 200 for c in canceled)
    assert trading.get_orders() == []


def test_ops03_close_position_by_qty_percentage_and_all(trading: TradingClient) -> None:
    partial = trading.close_position("AAPL", ClosePositionRequest(qty="4"))
    assert partial.side == OrderSide.SELL
    assert partial.qty == "4"
    assert trading.get_open_position("AAPL").qty == "6"
    half = trading.close_position("AAPL", ClosePositionRequest(percentage="50"))
    assert half.qty == "3"
    trading.submit_order(_market("KO", 2))
    results = trading.close_all_positions(cancel_orders=True)
    assert {r.symbol for r in results} == {"AAPL", "KO"}
    assert all(r.status == 200 for r in results)
    assert trading.get_all_positions() == []
    with pytest.raises(APIError) as missing:
        trading.get_open_position("AAPL")
    assert missing.value.status_code == 404


def test_ops03_assets_and_clock(trading: TradingClient) -> None:
    asset = trading.get_asset("AAPL")
    assert (asset.symbol, asset.tradable, asset.fractionable) == ("AAPL", True, True)
    assert trading.get_asset(asset.id).symbol == "AAPL"
    assert trading.get_asset("GME").fractionable is False
    with pytest.raises(APIError) as unknown:
        trading.get_asset("XYZQ")
    assert unknown.value.status_code == 404
    assert (unknown.value.code, unknown.value.message) == (40410000, "asset not found")
    clock = trading.get_clock()
    assert clock.is_open is True
    assert clock.next_close > clock.timestamp


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"symbol": "XYZQ", "qty": 1}, 'asset "XYZQ" not found'),
        ({"symbol": "AAPL"}, "qty or notional is required"),
        ({"symbol": "AAPL", "qty": 1, "notional": 10}, "only one of qty or notional"),
        ({"symbol": "AAPL", "qty": 1, "type": "limit"}, "limit_price is required"),
        ({"symbol": "AAPL", "qty": 1, "type": "stop"}, "stop_price is required"),
        ({"symbol": "AAPL", "qty": 1, "type": "stop_limit", "stop_price": 1}, "limit_price"),
        ({"symbol": "AAPL", "notional": 10, "time_in_force": "gtc"}, "notional orders"),
        ({"symbol": "GME", "qty": 0.5}, "not fractionable"),
        ({"symbol": "TWTR", "qty": 1}, "not tradable"),
        ({"symbol": "AAPL", "qty": 1, "type": "limit", "limit_price": 1.001}, "sub-penny"),
        ({"symbol": "AAPL", "qty": 1, "side": "hold"}, "invalid side"),
    ],
)
def test_ops03_invalid_orders_get_alpaca_422(
    sandbox: SandboxHandle, paper_keys: dict[str, str], body: dict[str, object], message: str
) -> None:
    import httpx

    from tests.sandbox.clients import auth_headers

    order = {"side": "buy", "type": "market", "time_in_force": "day", **body}
    response = httpx.post(
        f"{sandbox.paper_url}/v2/orders", json=order, headers=auth_headers(paper_keys)
    )
    assert response.status_code == 422
    assert response.json()["code"] == 40010001
    assert message in response.json()["message"]


def test_ops03_insufficient_buying_power_and_qty(
    sandbox: SandboxHandle, paper_keys: dict[str, str]
) -> None:
    trading = make_trading_client(sandbox, paper_keys, retries=0)
    with pytest.raises(APIError) as poor:
        trading.submit_order(_market("COST", 1000))
    assert (poor.value.status_code, poor.value.code) == (403, 40310000)
    assert poor.value.message == "insufficient buying power"
    with pytest.raises(APIError) as short:
        trading.submit_order(_market("AAPL", 11, side=OrderSide.SELL))
    assert short.value.status_code == 403
    assert "insufficient qty available" in short.value.message
    with pytest.raises(APIError) as not_shortable:
        trading.submit_order(_market("MSFT", 1, side=OrderSide.SELL))
    assert not_shortable.value.status_code == 403


def test_ops03_short_selling_needs_a_shortable_asset(sandbox: SandboxHandle) -> None:
    trading = make_trading_client(sandbox, sandbox.mint_account(shorting_enabled=True))
    short = trading.submit_order(_market("SPY", 2, side=OrderSide.SELL))
    assert short.status == OrderStatus.FILLED
    position = trading.get_open_position("SPY")
    assert (position.side, position.qty) == ("short", "-2")
    assert Decimal(trading.get_account().short_market_value) < 0
    with pytest.raises(APIError) as refused:
        trading.submit_order(_market("GME", 1, side=OrderSide.SELL))
    assert refused.value.status_code == 403


def test_ops03_accounts_never_see_each_other(
    sandbox: SandboxHandle, trading: TradingClient
) -> None:
    other = make_trading_client(sandbox, sandbox.mint_account(cash="5000"))
    mine = trading.submit_order(_far_limit())
    assert other.get_orders() == []
    assert other.get_all_positions() == []
    assert Decimal(other.get_account().cash) == 5000
    with pytest.raises(APIError) as hidden:
        other.get_order_by_id(mine.id)
    assert hidden.value.status_code == 404
    with pytest.raises(APIError):
        other.cancel_order_by_id(mine.id)
    assert trading.get_order_by_id(mine.id).status == OrderStatus.NEW


def test_ops03_market_closed_orders_wait_until_open(
    sandbox: SandboxHandle, trading: TradingClient
) -> None:
    sandbox.set_market_open(False)
    assert trading.get_clock().is_open is False
    order = trading.submit_order(_market("KO", 1))
    assert order.status == OrderStatus.ACCEPTED
    sandbox.set_market_open(True)
    assert trading.get_order_by_id(order.id).status == OrderStatus.FILLED


def test_ops03_forced_partial_fill_expire_and_reject(
    sandbox: SandboxHandle, trading: TradingClient
) -> None:
    order = trading.submit_order(_far_limit(qty=4))
    partly = sandbox.force_order(str(order.id), "fill", qty="1", price="59.50")
    assert (partly["status"], partly["filled_qty"]) == ("partially_filled", "1")
    assert trading.get_open_position("NVDA").qty == "1"
    assert sandbox.force_order(str(order.id), "expire")["status"] == "expired"
    other = trading.submit_order(_far_limit())
    assert sandbox.force_order(str(other.id), "reject")["status"] == "rejected"


# ------------------------------------------------------------------- the holder's own brakes


def test_risk04_account_configurations_round_trip_through_alpaca_py(
    trading: TradingClient,
) -> None:
    """alpaca-py reads the configurations and sets them back; the account shows the brake."""
    configuration = trading.get_account_configurations()
    assert (configuration.suspend_trade, configuration.no_shorting) == (False, False)
    assert configuration.fractional_trading is True
    assert trading.get_account().trade_suspended_by_user is False
    configuration.suspend_trade = True
    answered = trading.set_account_configurations(configuration)
    assert answered.suspend_trade is True
    assert trading.get_account_configurations() == answered
    assert trading.get_account().trade_suspended_by_user is True
    answered.suspend_trade = False
    assert trading.set_account_configurations(answered).suspend_trade is False


def test_risk04_suspend_trade_refuses_new_orders_but_cancels_and_closes_still_work(
    trading: TradingClient,
) -> None:
    """RISK-04: suspended, new orders get Alpaca's 403; canceling and closing positions work."""
    resting = trading.submit_order(_far_limit())
    configuration = trading.get_account_configurations()
    configuration.suspend_trade = True
    trading.set_account_configurations(configuration)
    with pytest.raises(APIError) as refused:
        trading.submit_order(_market("KO", 1))
    assert (refused.value.status_code, refused.value.code) == (403, 40310000)
    assert refused.value.message == "new orders are rejected by user request"
    trading.cancel_order_by_id(resting.id)
    assert trading.get_order_by_id(resting.id).status == OrderStatus.CANCELED
    closing = trading.close_position("AAPL", ClosePositionRequest(qty="4"))
    assert closing.status == OrderStatus.FILLED
    assert trading.get_open_position("AAPL").qty == "6"
    assert all(r.status == 200 for r in trading.close_all_positions(cancel_orders=True))
    assert trading.get_all_positions() == []
    configuration.suspend_trade = False
    trading.set_account_configurations(configuration)
    assert trading.submit_order(_market("KO", 1)).status == OrderStatus.FILLED


def test_risk04_no_shorting_refuses_sells_that_open_or_grow_a_short(
    sandbox: SandboxHandle,
) -> None:
    """An account allowed to short opts out with ``no_shorting``; closing stays possible."""
    keys = sandbox.mint_account(
        shorting_enabled=True, positions=[{"symbol": "KO", "qty": "5", "avg_entry_price": "60"}]
    )
    trading = make_trading_client(sandbox, keys)
    trading.submit_order(_market("SPY", 2, side=OrderSide.SELL))
    configuration = trading.get_account_configurations()
    configuration.no_shorting = True
    assert trading.set_account_configurations(configuration).no_shorting is True
    assert trading.get_account().shorting_enabled is False
    for symbol in ["SPY", "AMD"]:  # growing a short, opening one
        with pytest.raises(APIError) as refused:
            trading.submit_order(_market(symbol, 1, side=OrderSide.SELL))
        assert (refused.value.status_code, refused.value.code) == (403, 40310000)
        assert refused.value.message == (
            "insufficient qty available for order (requested: 1, available: 0)"
        )
    # Selling what is held and buying back a short stay possible.
    assert trading.submit_order(_market("KO", 5, side=OrderSide.SELL)).status == OrderStatus.FILLED
    assert trading.submit_order(_market("SPY", 2)).status == OrderStatus.FILLED
    assert trading.get_all_positions() == []


def test_risk04_patch_changes_only_the_fields_sent(
    sandbox: SandboxHandle, paper_keys: dict[str, str]
) -> None:
    import httpx

    from tests.sandbox.clients import auth_headers

    url = f"{sandbox.paper_url}/v2/account/configurations"
    headers = auth_headers(paper_keys)
    before = httpx.get(url, headers=headers).json()
    answer = httpx.patch(url, json={"no_shorting": True, "pdt_check": None}, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {**before, "no_shorting": True}
    assert httpx.get(url, headers=headers).json() == answer.json()
    for body in [
        {"suspend_trade": "yes"},
        {"max_margin_multiplier": 2},
        {"max_options_trading_level": True},
        {"trade_confirm_email": "some"},
        {"suspend_trades": True},
        ["suspend_trade"],
    ]:
        refused = httpx.patch(url, json=body, headers=headers)
        assert refused.status_code == 422, body
        assert refused.json()["code"] == 40010001
    assert httpx.get(url, headers=headers).json() == answer.json()
