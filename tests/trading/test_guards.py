"""The one check of every order, as a pure function, both sides of every boundary.

RISK-01 (every guard refuses with its guard, limit and value), RISK-02
(conservative pricing, reducing orders always pass unless they flip, no price
means refused), RISK-04 (a halt refuses everything but a close).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from api.broker import BrokerPosition, BrokerQuote, OrderRequest, Snapshot
from api.errors import AccountHalted, LimitExceeded
from api.trading import guards
from api.trading.guards import NO_LIMITS, Guard, Limits, Market, UnjudgedOrder, judge

ACCOUNT = uuid4()
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _snapshot(equity: str = "100000", last_equity: str = "100000") -> Snapshot:
    return Snapshot(
        account_number="PA-TEST",
        environment="PAPER",
        cash=Decimal(equity),
        equity=Decimal(equity),
        buying_power=Decimal(equity),
        portfolio_value=Decimal(equity),
        last_equity=Decimal(last_equity),
        currency="USD",
        status="ACTIVE",
        trading_blocked=False,
        pattern_day_trader=False,
        as_of=NOW,
    )


def _quote(bid: str = "99", ask: str = "100") -> BrokerQuote:
    return BrokerQuote("AAPL", Decimal(bid), Decimal(10), Decimal(ask), Decimal(10), NOW)


def _position(qty: str, side: str = "long", symbol: str = "AAPL") -> BrokerPosition:
    n = Decimal(qty)
    return BrokerPosition(
        symbol, "us_equity", side, n, n, Decimal(100), None, n * 100, None, None, None, None, None
    )


MARKET = Market(_snapshot(), (), _quote(), Decimal("100"))


def _buy(qty: str = "10", **extra: object) -> OrderRequest:
    return OrderRequest("AAPL", "buy", qty=Decimal(qty), **extra)  # type: ignore[arg-type]


def _sell(qty: str = "10", **extra: object) -> OrderRequest:
    return OrderRequest("AAPL", "sell", qty=Decimal(qty), **extra)  # type: ignore[arg-type]


def _decide(
    request: OrderRequest,
    limits: Limits = NO_LIMITS,
    *,
    market: Market = MARKET,
    halted: bool = False,
    orders_today: int = 0,
) -> guards.Verdict:
    return judge(ACCOUNT, request, limits, halted=halted, market=market, orders_today=orders_today)


CASES = [
    # (name, request, limits, market, halted, orders today, refused by)
    ("no limits", _buy(), NO_LIMITS, MARKET, False, 0, None),
    ("halted", _buy(), NO_LIMITS, MARKET, True, 0, Guard.ACCOUNT_HALTED),
    ("denied", _buy(), Limits(denied_symbols=("AAPL",)), MARKET, False, 0, Guard.SYMBOL_DENIED),
    ("not denied", _buy(), Limits(denied_symbols=("MSFT",)), MARKET, False, 0, None),
    (
        "not allowed",
        _buy(),
        Limits(allowed_symbols=("MSFT",)),
        MARKET,
        False,
        0,
        Guard.SYMBOL_NOT_ALLOWED,
    ),
    ("allowed", _buy(), Limits(allowed_symbols=("AAPL",)), MARKET, False, 0, None),
    (
        "empty allow list",
        _buy(),
        Limits(allowed_symbols=()),
        MARKET,
        False,
        0,
        Guard.SYMBOL_NOT_ALLOWED,
    ),
    ("short, off", _sell(), Limits(allow_short=False), MARKET, False, 0, Guard.SHORT_NOT_ALLOWED),
    ("short, no limit", _sell(), NO_LIMITS, MARKET, False, 0, None),
    ("short, on", _sell(), Limits(allow_short=True), MARKET, False, 0, None),
    # 10 x the ask of 100 is 1,000: at the cap passes, a cent under refuses
    ("notional at cap", _buy(), Limits(max_order_notional=Decimal(1000)), MARKET, False, 0, None),
    (
        "notional over cap",
        _buy(),
        Limits(max_order_notional=Decimal("999.99")),
        MARKET,
        False,
        0,
        Guard.MAX_ORDER_NOTIONAL,
    ),
    # a limit buy is priced at its limit when that is above the quote: 10 x 200
    (
        "limit price counts",
        _buy(type="limit", limit_price=Decimal(200)),
        Limits(max_order_notional=Decimal(1500)),
        MARKET,
        False,
        0,
        Guard.MAX_ORDER_NOTIONAL,
    ),
    (
        "stop price counts",
        _buy(type="stop", stop_price=Decimal(160)),
        Limits(max_order_notional=Decimal(1500)),
        MARKET,
        False,
        0,
        Guard.MAX_ORDER_NOTIONAL,
    ),
    # the last trade above the ask counts too: 10 x 180
    (
        "last trade counts",
        _buy(),
        Limits(max_order_notional=Decimal(1500)),
        replace(MARKET, last_price=Decimal(180)),
        False,
        0,
        Guard.MAX_ORDER_NOTIONAL,
    ),
    (
        "notional order at its amount",
        OrderRequest("AAPL", "buy", notional=Decimal(1500)),
        Limits(max_order_notional=Decimal(1500)),
        Market(),
        False,
        0,
        None,
    ),
    (
        "notional order over",
        OrderRequest("AAPL", "buy", notional=Decimal("1500.01")),
        Limits(max_order_notional=Decimal(1500)),
        Market(),
        False,
        0,
        Guard.MAX_ORDER_NOTIONAL,
    ),
    (
        "no price at all",
        _buy(),
        Limits(max_order_notional=Decimal(10**6)),
        Market(_snapshot()),
        False,
        0,
        Guard.PRICE_UNKNOWN,
    ),
    ("no price, no cap", _buy(), NO_LIMITS, Market(), False, 0, None),
    ("orders under cap", _buy(), Limits(max_orders_per_day=3), MARKET, False, 2, None),
    (
        "orders at cap",
        _buy(),
        Limits(max_orders_per_day=3),
        MARKET,
        False,
        3,
        Guard.MAX_ORDERS_PER_DAY,
    ),
    (
        "zero orders a day",
        _buy(),
        Limits(max_orders_per_day=0),
        MARKET,
        False,
        0,
        Guard.MAX_ORDERS_PER_DAY,
    ),
    # down 499.99 against a limit of 500 passes, down 500 refuses
    (
        "loss under limit",
        _buy(),
        Limits(max_daily_loss=Decimal(500)),
        replace(MARKET, snapshot=_snapshot("99500.01")),
        False,
        0,
        None,
    ),
    (
        "loss at limit",
        _buy(),
        Limits(max_daily_loss=Decimal(500)),
        replace(MARKET, snapshot=_snapshot("99500")),
        False,
        0,
        Guard.MAX_DAILY_LOSS,
    ),
    (
        "a gain is no loss",
        _buy(),
        Limits(max_daily_loss=Decimal("0.01")),
        replace(MARKET, snapshot=_snapshot("100001")),
        False,
        0,
        None,
    ),
    (
        "loss unknown",
        _buy(),
        Limits(max_daily_loss=Decimal(500)),
        Market(None, (), _quote()),
        False,
        0,
        Guard.MAX_DAILY_LOSS,
    ),
]


@pytest.mark.parametrize(
    ("request_", "limits", "market", "halted", "orders_today", "refused_by"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_risk01_risk02_each_guard_on_both_sides_of_its_boundary(
    request_: OrderRequest,
    limits: Limits,
    market: Market,
    halted: bool,
    orders_today: int,
    refused_by: Guard | None,
) -> None:
    verdict = _decide(request_, limits, market=market, halted=halted, orders_today=orders_today)
    assert (verdict.refusal.guard if verdict.refusal else None) == refused_by
    if refused_by is None:
        assert verdict.raise_if_refused() is verdict
    elif refused_by is Guard.ACCOUNT_HALTED:
        with pytest.raises(AccountHalted):
            verdict.raise_if_refused()
    else:
        with pytest.raises(LimitExceeded) as refused:
            verdict.raise_if_refused()
        assert refused.value.extensions["guard"] == refused_by.value
        assert {"limit", "value"} <= set(refused.value.extensions)


STRICT = Limits(
    max_order_notional=Decimal(1),
    max_daily_loss=Decimal(0),
    max_orders_per_day=0,
    allowed_symbols=("MSFT",),
    denied_symbols=("AAPL",),
    allow_short=False,
)
LOSING = replace(MARKET, snapshot=_snapshot("90000"))


@pytest.mark.parametrize(
    ("held", "request_", "reduces"),
    [
        ([_position("10")], _sell("10"), True),
        ([_position("10")], _sell("4"), True),
        ([_position("10")], _sell("11"), False),  # would turn the long into a short
        ([_position("10", "short")], _buy("10"), True),
        ([_position("10", "short")], _buy("11"), False),  # would turn the short into a long
        ([_position("10")], OrderRequest("AAPL", "sell", notional=Decimal(990)), True),
        ([_position("10")], OrderRequest("AAPL", "sell", notional=Decimal(1000)), False),
        ([], _sell("1"), False),
        ([_position("10", symbol="MSFT")], _sell("1"), False),
    ],
)
def test_risk02_an_order_that_only_reduces_passes_every_guard_and_the_halt(
    held: list[BrokerPosition], request_: OrderRequest, reduces: bool
) -> None:
    """Even the strictest limits, a day's loss and a halt let a position get smaller; a
    notional sell counts its shares at the lowest price (990 / 99 = 10 shares)."""
    verdict = _decide(request_, STRICT, market=replace(LOSING, positions=held), halted=True)
    assert verdict.reduces_only is reduces
    assert verdict.allowed is reduces


def test_risk01_headroom_says_what_is_left_today() -> None:
    limits = Limits(
        max_daily_loss=Decimal(5000), max_orders_per_day=10, max_order_notional=Decimal(2500)
    )
    verdict = _decide(
        _buy("1"), limits, market=replace(MARKET, snapshot=_snapshot("96200")), orders_today=4
    )
    assert verdict.headroom == (
        "$1,200.00 of $5,000.00 daily loss left today",
        "6 of 10 orders left today",
        "up to $2,500.00 per order",
    )


def test_risk01_every_guard_has_a_rule() -> None:
    """No guard type without a rule, no rule without a guard type."""
    assert set(guards._RULES) == set(Guard)


def test_risk01_a_verdict_is_made_by_judge_only_and_binds_one_order_once() -> None:
    request = _buy(client_order_id="coid-1")
    with pytest.raises(TypeError):
        guards.Verdict(ACCOUNT, request, None, False, False, (), seal=object())
    verdict = _decide(request)
    with pytest.raises(UnjudgedOrder):
        verdict.admit(ACCOUNT, _buy("11", client_order_id="coid-1"), "coid-1")
    with pytest.raises(UnjudgedOrder):
        verdict.admit(uuid4(), request, "coid-1")
    with pytest.raises(UnjudgedOrder):
        verdict.admit(ACCOUNT, request, "coid-2")
    verdict.admit(ACCOUNT, request, "coid-1")
    with pytest.raises(UnjudgedOrder):
        verdict.admit(ACCOUNT, request, "coid-1")  # spent
    refused = _decide(_buy(), halted=True)
    with pytest.raises(UnjudgedOrder):
        refused.admit(ACCOUNT, _buy(), "coid-3")
