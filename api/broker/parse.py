"""alpaca-py's response models in, our frozen dataclasses out.

alpaca-py validates the broker's JSON (types, enums, timestamps); these
functions then copy the fields the product uses, turning the broker's money
strings into ``Decimal`` without a detour through float. An answer that does
not fit the models means the broker is not speaking the API we know: that is
BROKER_UNAVAILABLE, not a crash. The models are imported where they are used:
importing them loads pandas, about a second that start-up does without
(docs/architecture.md, performance budget).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from api.broker.errors import BrokerError, unavailable
from api.broker.models import (
    BrokerAsset,
    BrokerConfiguration,
    BrokerOrder,
    BrokerPosition,
    BrokerQuote,
    Clock,
    Environment,
    Snapshot,
    Verification,
)

if TYPE_CHECKING:
    from alpaca.trading.models import Order as AlpacaOrder

T = TypeVar("T")


def parsed(build: Callable[[], T]) -> T:
    """Run a parser; a malformed answer becomes BROKER_UNAVAILABLE with no raw text."""
    failure: BrokerError | None = None
    try:
        return build()
    except (ValidationError, ValueError, TypeError, KeyError, InvalidOperation):
        failure = unavailable("the broker sent an answer we could not read")
    raise failure


def dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        # The shortest repr is what the broker printed; Decimal(float) would not be.
        return Decimal(repr(value))
    return Decimal(value)


def _money(value: Any) -> Decimal:
    number = dec(value)
    return Decimal(0) if number is None else number


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _maybe_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def verification(raw: Any, environment: Environment) -> Verification:
    from alpaca.trading.models import TradeAccount

    account = TradeAccount(**raw)
    return Verification(
        account_number=account.account_number,
        status=_text(account.status),
        environment=environment,
        trading_blocked=bool(account.trading_blocked),
    )


def snapshot(raw: Any, environment: Environment, as_of: datetime) -> Snapshot:
    from alpaca.trading.models import TradeAccount

    account = TradeAccount(**raw)
    return Snapshot(
        account_number=account.account_number,
        environment=environment,
        cash=_money(account.cash),
        equity=_money(account.equity),
        buying_power=_money(account.buying_power),
        portfolio_value=_money(account.portfolio_value),
        last_equity=_money(account.last_equity),
        currency=account.currency or "USD",
        status=_text(account.status),
        trading_blocked=bool(account.trading_blocked),
        pattern_day_trader=bool(account.pattern_day_trader),
        as_of=as_of,
    )


def position(raw: Any) -> BrokerPosition:
    from alpaca.trading.models import Position as AlpacaPosition

    item = AlpacaPosition(**raw)
    return BrokerPosition(
        symbol=item.symbol,
        asset_class=_text(item.asset_class),
        side=_text(item.side),
        qty=_money(item.qty),
        qty_available=dec(item.qty_available),
        avg_entry_price=_money(item.avg_entry_price),
        market_value=dec(item.market_value),
        cost_basis=_money(item.cost_basis),
        unrealized_pl=dec(item.unrealized_pl),
        unrealized_plpc=dec(item.unrealized_plpc),
        current_price=dec(item.current_price),
        lastday_price=dec(item.lastday_price),
        change_today=dec(item.change_today),
    )


def positions(raw: Any) -> list[BrokerPosition]:
    if not isinstance(raw, list):
        raise TypeError("positions must be a list")
    return [position(item) for item in raw]


def order(raw: Any) -> BrokerOrder:
    from alpaca.trading.models import Order as AlpacaOrder

    return _order(AlpacaOrder(**raw))


def _order(item: AlpacaOrder) -> BrokerOrder:
    return BrokerOrder(
        id=str(item.id),
        client_order_id=item.client_order_id,
        symbol=item.symbol,
        asset_class=_maybe_text(item.asset_class),
        side=_maybe_text(item.side),
        type=_maybe_text(item.type or item.order_type),
        time_in_force=_text(item.time_in_force),
        status=_text(item.status),
        qty=dec(item.qty),
        notional=dec(item.notional),
        filled_qty=dec(item.filled_qty),
        filled_avg_price=dec(item.filled_avg_price),
        limit_price=dec(item.limit_price),
        stop_price=dec(item.stop_price),
        extended_hours=bool(item.extended_hours),
        created_at=item.created_at,
        updated_at=item.updated_at,
        submitted_at=item.submitted_at,
        filled_at=item.filled_at,
        canceled_at=item.canceled_at,
        order_class=_maybe_text(item.order_class) or "simple",
        legs=tuple(_order(leg) for leg in item.legs or ()),
        trail_price=dec(item.trail_price),
        trail_percent=dec(item.trail_percent),
        hwm=dec(item.hwm),
        replaced_by=_maybe_text(item.replaced_by),
        replaces=_maybe_text(item.replaces),
    )


def orders(raw: Any) -> list[BrokerOrder]:
    if not isinstance(raw, list):
        raise TypeError("orders must be a list")
    return [order(item) for item in raw]


def quote(symbol: str, raw: Any) -> BrokerQuote:
    """``raw`` was decoded with ``parse_float=Decimal``, so prices keep their digits."""
    from alpaca.data.models.quotes import Quote as AlpacaQuote

    item = AlpacaQuote(symbol, raw)
    return BrokerQuote(
        symbol=item.symbol,
        bid_price=_money(raw.get("bp")),
        bid_size=_money(raw.get("bs")),
        ask_price=_money(raw.get("ap")),
        ask_size=_money(raw.get("as")),
        timestamp=item.timestamp,
    )


def asset(raw: Any) -> BrokerAsset:
    from alpaca.trading.models import Asset as AlpacaAsset

    item = AlpacaAsset(**raw)
    return BrokerAsset(
        symbol=item.symbol,
        name=item.name,
        exchange=_text(item.exchange),
        asset_class=_text(item.asset_class),
        status=_text(item.status),
        tradable=item.tradable,
        fractionable=item.fractionable,
        shortable=item.shortable,
        marginable=item.marginable,
        easy_to_borrow=item.easy_to_borrow,
    )


def clock(raw: Any) -> Clock:
    from alpaca.trading.models import Clock as AlpacaClock

    item = AlpacaClock(**raw)
    return Clock(
        timestamp=item.timestamp,
        is_open=item.is_open,
        next_open=item.next_open,
        next_close=item.next_close,
    )


def configuration(raw: Any) -> BrokerConfiguration:
    from alpaca.trading.models import AccountConfiguration as AlpacaConfiguration

    item = AlpacaConfiguration(**raw)
    return BrokerConfiguration(
        dtbp_check=_text(item.dtbp_check),
        trade_confirm_email=_text(item.trade_confirm_email),
        suspend_trade=bool(item.suspend_trade),
        no_shorting=bool(item.no_shorting),
        fractional_trading=bool(item.fractional_trading),
        max_margin_multiplier=_text(item.max_margin_multiplier),
        pdt_check=_text(item.pdt_check),
        max_options_trading_level=_options_level(item.max_options_trading_level),
    )


def _options_level(value: Any) -> int | None:
    if value is None:
        return None
    return int(value.value if isinstance(value, Enum) else value)


def trade_price(raw: Any) -> Decimal | None:
    """The price of a latest trade (decoded with ``parse_float=Decimal``), if it has one."""
    price = dec(raw.get("p")) if isinstance(raw, dict) else None
    return price if price is not None and price > 0 else None
