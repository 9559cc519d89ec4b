"""The one order vocabulary and the one check of an order's shape (ORD-05, TRADE-02).

Every way an order comes in (the `placeOrder` ticket, the chat's tools and
the command interpreter behind them, a stored proposal) becomes an
`OrderIntent` through `validate_intent`, and nothing else decides what an
order may look like: the GraphQL enums and the tools' JSON schemas are made
from the enums here, `parse_decimal` is the only reader of amounts and prices
(the GraphQL `Decimal` scalar uses it too), `parse_symbol` the only symbol
rule. What needs the account (known and tradable symbol, fractionable, buying
power, shares held, so also "no crypto shorting") is checked after this, in
`validation.py`; the broker layer below only writes the wire body of an
intent's `OrderRequest` (docs/architecture.md, "Layers and the import order").

Protective orders (ORD-01) are part of the vocabulary: a bracket, OCO or OTO
order is an `OrderClass` plus its take-profit and stop-loss leg fields, a
trailing stop its trail price or percent. Rules that need only the order are
in `check_shape`; the one that needs a price (legs on the right side of the
entry) is `check_legs`, which the account check calls with the entry price,
so every broker rule is decided when the order is proposed, never after
confirmation. A replacement of an open order is a `Replacement`, made by
`validate_replacement` (ORD-02).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from api.broker import BrokerOrder, OrderRequest
from api.errors import BadUserInput


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Alpaca's order types; a trailing stop trails by `trail_price` or `trail_percent`."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"


class OrderClass(StrEnum):
    """Alpaca's order classes (ORD-01).

    BRACKET: an entry with a take-profit and a stop-loss exit, one cancelling the other;
    OTO: an entry with one of those exits; OCO: the two exits alone, for a position
    already held. The exits are held by the broker, so they protect a position while
    this server, the phone or the model is down.
    """

    SIMPLE = "simple"
    BRACKET = "bracket"
    OCO = "oco"
    OTO = "oto"


# The prices each order type needs; a price an order type does not use is refused.
REQUIRED_PRICES: dict[OrderType, frozenset[str]] = {
    OrderType.MARKET: frozenset(),
    OrderType.LIMIT: frozenset({"limit_price"}),
    OrderType.STOP: frozenset({"stop_price"}),
    OrderType.STOP_LIMIT: frozenset({"limit_price", "stop_price"}),
    OrderType.TRAILING_STOP: frozenset(),
}
PLACEABLE_TYPES: tuple[OrderType, ...] = tuple(REQUIRED_PRICES)
# Alpaca's crypto rules: no stop orders, and the market never closes, so no DAY orders.
CRYPTO_TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LIMIT)
CRYPTO_TIMES_IN_FORCE = (TimeInForce.GTC, TimeInForce.IOC)
# Alpaca's rules for the other orders: a fraction of a share goes only as a DAY market
# or limit order; an entry with exits is a market or limit order, lasting a day or until
# canceled; a trailing stop too.
FRACTIONAL_TYPES = (OrderType.MARKET, OrderType.LIMIT)
ENTRY_TYPES = (OrderType.MARKET, OrderType.LIMIT)
ADVANCED_TIMES_IN_FORCE = (TimeInForce.DAY, TimeInForce.GTC)
LEG_FIELDS = ("take_profit_limit_price", "stop_loss_stop_price", "stop_loss_limit_price")
TRAIL_FIELDS = ("trail_price", "trail_percent")

# Stocks and ETFs (AAPL, F, BRK.B) or a crypto pair written BASE/QUOTE (BTC/USD).
SYMBOL_PATTERN = r"(?:[A-Z][A-Z0-9]{0,9}(?:\.[A-Z]{1,3})?|[A-Z][A-Z0-9]{1,9}/[A-Z]{3,5})"
_SYMBOL = re.compile(rf"^{SYMBOL_PATTERN}$")

# Far beyond any real order, and small enough that every accepted value is exact in
# Decimal's default 28-digit context: below 1e9 with at most 9 places is at most 18
# significant digits, so the two bounds also bound the digits.
MAX_AMOUNT = Decimal(1_000_000_000)
MAX_PLACES = 9
# Longer text is refused before Decimal reads it (a megabyte of digits costs time).
_MAX_TEXT = 40

# The GraphQL input field each intent field comes from (extensions.field of an error).
INPUT_FIELDS = {
    "symbol": "symbol",
    "side": "side",
    "type": "type",
    "qty": "qty",
    "notional": "notional",
    "limit_price": "limitPrice",
    "stop_price": "stopPrice",
    "time_in_force": "timeInForce",
    "extended_hours": "extendedHours",
    "order_class": "orderClass",
    "trail_price": "trailPrice",
    "trail_percent": "trailPercent",
    "take_profit_limit_price": "takeProfitLimitPrice",
    "stop_loss_stop_price": "stopLossStopPrice",
    "stop_loss_limit_price": "stopLossLimitPrice",
}
LABELS = {
    "qty": "Quantity",
    "notional": "Dollar amount",
    "limit_price": "Limit price",
    "stop_price": "Stop price",
    "trail_price": "Trail price",
    "trail_percent": "Trail percent",
    "take_profit_limit_price": "Take-profit limit price",
    "stop_loss_stop_price": "Stop-loss stop price",
    "stop_loss_limit_price": "Stop-loss limit price",
}
_AMOUNT_FIELDS = tuple(LABELS)


def parse_decimal(value: object, field: str | None = None, *, positive: bool = True) -> Decimal:
    """`value` as an exact Decimal within the bounds above, or BadUserInput on `field`.

    Accepts a Decimal, an int, a float (by its shortest repr, so 0.1 stays 0.1)
    or a plain decimal string. Everything is decided on the digits and the
    exponent (`as_tuple`) before any arithmetic or formatting, so
    ``1E-150000000`` or ``1E+30`` are refused without ever being expanded.
    The result is canonical: no trailing zeros, whole numbers without a point.
    """
    label = LABELS.get(field or "", "The number")
    key = INPUT_FIELDS.get(field or "", field)
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise BadUserInput(f"{label} must be a number", field=key)
    text = repr(value) if isinstance(value, float) else value
    if isinstance(text, str):
        text = text.strip()
        if len(text) > _MAX_TEXT:
            raise BadUserInput(f"{label} has too many digits", field=key)
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise BadUserInput(f"{label} must be a number", field=key) from None
    if not number.is_finite():
        raise BadUserInput(f"{label} must be a finite number", field=key)
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite numbers have an int exponent
    significant = "".join(map(str, digits)).lstrip("0")
    stripped = significant.rstrip("0")
    if positive and (sign or not significant):
        raise BadUserInput(f"{label} must be more than zero", field=key)
    # Trailing zeros carry no value: "1.50" has one decimal place, "100" none.
    places = -(exponent + len(significant) - len(stripped))
    if places > MAX_PLACES:
        raise BadUserInput(f"{label} can have at most {MAX_PLACES} decimal places", field=key)
    # Digits before the point, from the tuple: 1E+150000000 is refused without arithmetic.
    if exponent + len(significant) > len(str(MAX_AMOUNT)) or abs(number) > MAX_AMOUNT:
        raise BadUserInput(f"{label} can be at most {MAX_AMOUNT:,}", field=key)
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def parse_symbol(value: object) -> str:
    """A ticker (AAPL, BRK.B) or a crypto pair (BTC/USD), upper-cased; "$aapl" is AAPL."""
    text = value.strip().removeprefix("$").upper() if isinstance(value, str) else ""
    if not _SYMBOL.match(text):
        raise BadUserInput(
            "Enter a ticker symbol such as AAPL or BRK.B, or a crypto pair such as BTC/USD",
            field="symbol",
        )
    return text


def is_crypto(symbol: str) -> bool:
    return "/" in symbol


def same_symbol(held: str, ordered: str) -> bool:
    """Whether a position's symbol is an order's: Alpaca lists BTC/USD held as BTCUSD."""
    return held.replace("/", "") == ordered.replace("/", "")


def default_time_in_force(symbol: str) -> TimeInForce:
    """DAY for stocks; for crypto, whose market never closes, GTC."""
    return CRYPTO_TIMES_IN_FORCE[0] if is_crypto(symbol) else TimeInForce.DAY


_E = TypeVar("_E", bound=StrEnum)


def _choice(value: object, field: str, allowed: tuple[_E, ...]) -> _E:
    """One of `allowed`, given as the member or its value in any case ("Buy", "BUY")."""
    text = value.strip().lower() if isinstance(value, str) else None
    for member in allowed:
        if text == member.value:
            return member
    names = ", ".join(m.value for m in allowed)
    raise BadUserInput(
        f"{field.replace('_', ' ').capitalize()} must be one of: {names}",
        field=INPUT_FIELDS[field],
    )


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order as a person asks for it, already in shape (`validate_intent` made it).

    Exactly one of `qty` and `notional`; the prices its type needs and no
    other. Values are the enums above, whose values are Alpaca's own spelling.
    """

    symbol: str
    side: Side
    type: OrderType = OrderType.MARKET
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    extended_hours: bool = False
    order_class: OrderClass = OrderClass.SIMPLE
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    take_profit_limit_price: Decimal | None = None
    stop_loss_stop_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None

    @property
    def crypto(self) -> bool:
        return is_crypto(self.symbol)

    @property
    def fractional(self) -> bool:
        return self.notional is not None or (
            self.qty is not None and self.qty != self.qty.to_integral_value()
        )

    @property
    def amount_field(self) -> str:
        """The GraphQL field of the amount ("qty" or "notional"), for errors about it."""
        return "qty" if self.qty is not None else "notional"

    def arguments(self) -> dict[str, Any]:
        """What the person asked for: the fields that are set (defaults of flags left out)."""
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        if not self.extended_hours:
            del given["extended_hours"]
        if self.order_class is OrderClass.SIMPLE:
            del given["order_class"]
        return {k: v for k, v in given.items() if v is not None}

    def to_json(self) -> dict[str, Any]:
        """`arguments()` as JSON: Decimals as plain strings, enums as their values."""
        return {k: _plain(v) for k, v in self.arguments().items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderIntent:
        """An intent stored by `to_json` (a proposal), read back as it was stored.

        Not validated again here: a proposal made under an older rule must stay
        readable in the history. Sending it goes through `check_shape` again.
        """

        def amount(name: str) -> Decimal | None:
            raw = data.get(name)
            return Decimal(str(raw)) if raw is not None else None

        return cls(
            symbol=str(data["symbol"]),
            side=Side(data["side"]),
            type=OrderType(data.get("type", OrderType.MARKET)),
            qty=amount("qty"),
            notional=amount("notional"),
            limit_price=amount("limit_price"),
            stop_price=amount("stop_price"),
            time_in_force=TimeInForce(data.get("time_in_force", TimeInForce.DAY)),
            extended_hours=bool(data.get("extended_hours", False)),
            order_class=OrderClass(data.get("order_class", OrderClass.SIMPLE)),
            trail_price=amount("trail_price"),
            trail_percent=amount("trail_percent"),
            take_profit_limit_price=amount("take_profit_limit_price"),
            stop_loss_stop_price=amount("stop_loss_stop_price"),
            stop_loss_limit_price=amount("stop_loss_limit_price"),
        )

    def request(self, client_order_id: str | None = None) -> OrderRequest:
        """The broker's wire-level request; `client_order_id` is the idempotency key."""
        return OrderRequest(
            symbol=self.symbol,
            side=self.side.value,
            type=self.type.value,
            qty=self.qty,
            notional=self.notional,
            time_in_force=self.time_in_force.value,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            extended_hours=self.extended_hours,
            order_class=self.order_class.value,
            client_order_id=client_order_id,
            trail_price=self.trail_price,
            trail_percent=self.trail_percent,
            take_profit_limit_price=self.take_profit_limit_price,
            stop_loss_stop_price=self.stop_loss_stop_price,
            stop_loss_limit_price=self.stop_loss_limit_price,
        )

    def describe(self, nickname: str, environment: str) -> str:
        """ "Buy 10 AAPL at market, take profit $210.00, stop loss $180.00 on Main (PAPER)"."""
        amount = f"${self.notional:,.2f} of" if self.notional is not None else f"{self.qty:f}"
        return (
            f"{self.side.title()} {amount} {self.symbol} {self.price_words()} "
            f"on {nickname} ({environment})"
        )

    def price_words(self) -> str:
        """The prices in words: "limit $185.00", "trailing 5%", "at market, stop loss $180.00"."""
        parts = []
        if self.stop_price is not None:
            parts.append(f"stop ${self.stop_price:,.2f}")
        if self.limit_price is not None:
            parts.append(f"limit ${self.limit_price:,.2f}")
        if self.trail_percent is not None:
            parts.append(f"trailing {self.trail_percent:f}%")
        if self.trail_price is not None:
            parts.append(f"trailing ${self.trail_price:,.2f}")
        words = " ".join(parts)
        if self.order_class is not OrderClass.OCO:
            words = words or "at market"
        exits = []
        if self.take_profit_limit_price is not None:
            exits.append(f"take profit ${self.take_profit_limit_price:,.2f}")
        if self.stop_loss_stop_price is not None:
            limit = self.stop_loss_limit_price
            extra = f" (limit ${limit:,.2f})" if limit is not None else ""
            exits.append(f"stop loss ${self.stop_loss_stop_price:,.2f}{extra}")
        return ", ".join(p for p in (words, *exits) if p)


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    return value.value if isinstance(value, StrEnum) else value


def validate_intent(
    *,
    symbol: object,
    side: object,
    type: object = OrderType.MARKET,
    qty: object = None,
    notional: object = None,
    limit_price: object = None,
    stop_price: object = None,
    time_in_force: object = TimeInForce.DAY,
    extended_hours: object = False,
    order_class: object = OrderClass.SIMPLE,
    trail_price: object = None,
    trail_percent: object = None,
    take_profit_limit_price: object = None,
    stop_loss_stop_price: object = None,
    stop_loss_limit_price: object = None,
) -> OrderIntent:
    """The intent these raw values describe, or BadUserInput naming the GraphQL field.

    Everything that needs no broker is decided here (TRADE-02, first half):
    the symbol, the enums, every amount through `parse_decimal`, then the
    rules across fields in `check_shape`.
    """
    ticker = parse_symbol(symbol)
    chosen_side = _choice(side, "side", tuple(Side))
    chosen_type = _choice(type, "type", tuple(OrderType))
    tif = _choice(time_in_force, "time_in_force", tuple(TimeInForce))
    chosen_class = _choice(order_class, "order_class", tuple(OrderClass))
    if not isinstance(extended_hours, bool):
        raise BadUserInput("Extended hours must be true or false", field="extendedHours")
    raw_amounts = (
        qty,
        notional,
        limit_price,
        stop_price,
        trail_price,
        trail_percent,
        take_profit_limit_price,
        stop_loss_stop_price,
        stop_loss_limit_price,
    )
    if chosen_class is OrderClass.OCO and chosen_type is OrderType.MARKET:
        # An OCO pair has no entry: Alpaca sends it as a limit order whose prices are
        # its two exits, so "market" (the input's default) is read as that.
        chosen_type = OrderType.LIMIT
    amounts = {
        name: None if raw is None or raw == "" else parse_decimal(raw, name)
        for name, raw in zip(_AMOUNT_FIELDS, raw_amounts, strict=True)
    }
    intent = OrderIntent(
        symbol=ticker,
        side=chosen_side,
        type=chosen_type,
        time_in_force=tif,
        extended_hours=extended_hours,
        order_class=chosen_class,
        **amounts,
    )
    check_shape(intent)
    return intent


def check_shape(intent: OrderIntent) -> None:
    """The rules across fields, each once, with a message a person can act on."""
    rules = (
        _one_amount,
        _notional_market_only,
        _crypto_rules,
        _stock_rules,
        _prices,
        _trail,
        _order_class,
    )
    for rule in rules:
        rule(intent)


def _one_amount(intent: OrderIntent) -> None:
    if intent.qty is None and intent.notional is None:
        raise BadUserInput("Give either a quantity or a dollar amount", field="qty")
    if intent.qty is not None and intent.notional is not None:
        raise BadUserInput("Give a quantity or a dollar amount, not both", field="notional")


def _type_name(order_type: OrderType) -> str:
    return order_type.value.replace("_", "-")


def _prices(intent: OrderIntent) -> None:
    if intent.order_class is OrderClass.OCO:
        return  # its prices are its two exits (`_order_class`)
    needed = REQUIRED_PRICES[intent.type]
    for name in ("limit_price", "stop_price"):
        given = getattr(intent, name) is not None
        label = LABELS[name].lower()
        if name in needed and not given:
            raise BadUserInput(
                f"A {_type_name(intent.type)} order needs a {label}", field=INPUT_FIELDS[name]
            )
        if given and name not in needed:
            raise BadUserInput(
                f"A {_type_name(intent.type)} order takes no {label}", field=INPUT_FIELDS[name]
            )


def _notional_market_only(intent: OrderIntent) -> None:
    if intent.notional is not None and intent.type is not OrderType.MARKET:
        raise BadUserInput(
            "Dollar amounts work only for market orders; give a quantity instead",
            field="notional",
        )


def _crypto_rules(intent: OrderIntent) -> None:
    if not intent.crypto:
        return
    if intent.type not in CRYPTO_TYPES:
        names = ", ".join(_type_name(t) for t in CRYPTO_TYPES)
        raise BadUserInput(f"Crypto orders can be: {names}", field="type")
    if intent.time_in_force not in CRYPTO_TIMES_IN_FORCE:
        names = " or ".join(t.value for t in CRYPTO_TIMES_IN_FORCE)
        raise BadUserInput(
            f"Crypto orders must be {names}: the crypto market never closes", field="timeInForce"
        )
    if intent.extended_hours:
        raise BadUserInput(
            "Extended hours are for stocks; crypto trades around the clock",
            field="extendedHours",
        )


def _stock_rules(intent: OrderIntent) -> None:
    if intent.crypto:
        return
    if intent.fractional and intent.time_in_force is not TimeInForce.DAY:
        raise BadUserInput(
            "Orders for a fraction of a share or a dollar amount must be day orders",
            field=intent.amount_field,
        )
    if intent.fractional and intent.type not in FRACTIONAL_TYPES:
        raise BadUserInput(
            "Orders for a fraction of a share can be market or limit orders only",
            field=intent.amount_field,
        )
    if intent.fractional and intent.order_class is not OrderClass.SIMPLE:
        raise BadUserInput(
            f"{intent.order_class.value.upper()} orders need whole shares",
            field=intent.amount_field,
        )
    if intent.extended_hours and (
        intent.type is not OrderType.LIMIT or intent.time_in_force is not TimeInForce.DAY
    ):
        raise BadUserInput(
            "Extended hours need a limit order that lasts the day", field="extendedHours"
        )


def _trail(intent: OrderIntent) -> None:
    """A trailing stop trails by a price or a percent, exactly one; no other order does."""
    given = [name for name in TRAIL_FIELDS if getattr(intent, name) is not None]
    if intent.type is not OrderType.TRAILING_STOP:
        if given:
            raise BadUserInput(
                "Only a trailing-stop order takes a trail price or percent",
                field=INPUT_FIELDS[given[0]],
            )
        return
    if not given:
        raise BadUserInput(
            "A trailing-stop order needs a trail price or a trail percent", field="trailPrice"
        )
    if len(given) == 2:
        raise BadUserInput("Give a trail price or a trail percent, not both", field="trailPercent")
    if intent.trail_percent is not None and intent.trail_percent >= 100:
        raise BadUserInput("Trail percent must be below 100", field="trailPercent")
    if intent.time_in_force not in ADVANCED_TIMES_IN_FORCE:
        raise BadUserInput(
            "A trailing-stop order lasts the day or until canceled", field="timeInForce"
        )
    if intent.extended_hours:
        raise BadUserInput("Trailing stops work in regular hours only", field="extendedHours")


def _order_class(intent: OrderIntent) -> None:
    """Which legs each class has, Alpaca's rules for them, in the words of the ticket."""
    legs = {name for name in LEG_FIELDS if getattr(intent, name) is not None}
    kind = intent.order_class
    if kind is OrderClass.SIMPLE:
        if legs:
            name = sorted(legs)[0]
            raise BadUserInput(
                "A take-profit or stop-loss leg needs a bracket, OTO or OCO order",
                field=INPUT_FIELDS[name],
            )
        return
    label = kind.value.upper()
    if intent.crypto:
        raise BadUserInput(f"Crypto orders cannot be {label} orders", field="orderClass")
    if intent.type is OrderType.TRAILING_STOP:
        raise BadUserInput(
            f"A trailing stop cannot be part of a {label} order; place it on its own",
            field="type",
        )
    if intent.extended_hours:
        raise BadUserInput(f"{label} orders work in regular hours only", field="extendedHours")
    if intent.time_in_force not in ADVANCED_TIMES_IN_FORCE:
        raise BadUserInput(f"{label} orders last the day or until canceled", field="timeInForce")
    if "stop_loss_limit_price" in legs and "stop_loss_stop_price" not in legs:
        raise BadUserInput("A stop-loss limit price needs a stop price", field="stopLossStopPrice")
    take_profit = "take_profit_limit_price" in legs
    stop_loss = "stop_loss_stop_price" in legs
    if kind is OrderClass.OTO:
        if take_profit == stop_loss:
            raise BadUserInput(
                "An OTO order has one exit: a take-profit or a stop-loss "
                "(both make it a bracket order)",
                field="orderClass",
            )
    elif not take_profit:
        hint = " (a single exit is an OTO order)" if kind is OrderClass.BRACKET else ""
        raise BadUserInput(
            f"A {label} order needs a take-profit limit price{hint}", field="takeProfitLimitPrice"
        )
    elif not stop_loss:
        hint = " (a single exit is an OTO order)" if kind is OrderClass.BRACKET else ""
        raise BadUserInput(
            f"A {label} order needs a stop-loss stop price{hint}", field="stopLossStopPrice"
        )
    if kind is OrderClass.OCO:
        if intent.limit_price is not None or intent.stop_price is not None:
            raise BadUserInput(
                "An OCO order's prices are its take-profit and stop-loss", field="limitPrice"
            )
    elif intent.type not in ENTRY_TYPES:
        raise BadUserInput(f"The entry of a {label} order is a market or limit order", field="type")


def check_legs(intent: OrderIntent, entry: Decimal) -> None:
    """The exits on the right side of the entry: for a buy the take-profit above it and the
    stop-loss below it, mirrored for a sell (ORD-01). ``entry`` is the entry's limit price,
    or the latest quote for a market entry and an OCO pair (whose entry is the position)."""
    exiting_long = (
        intent.side is Side.BUY
        if intent.order_class is not OrderClass.OCO
        else (intent.side is Side.SELL)
    )
    where, other = ("above", "below") if exiting_long else ("below", "above")
    what = "the entry" if intent.order_class is not OrderClass.OCO else "the market"
    take_profit = intent.take_profit_limit_price
    if take_profit is not None and (take_profit <= entry if exiting_long else take_profit >= entry):
        raise BadUserInput(
            f"The take-profit (${take_profit:,.2f}) must be {where} {what} (${entry:,.2f})",
            field="takeProfitLimitPrice",
        )
    stop_loss = intent.stop_loss_stop_price
    if stop_loss is not None and (stop_loss >= entry if exiting_long else stop_loss <= entry):
        raise BadUserInput(
            f"The stop-loss (${stop_loss:,.2f}) must be {other} {what} (${entry:,.2f})",
            field="stopLossStopPrice",
        )
    limit = intent.stop_loss_limit_price
    if (
        stop_loss is not None
        and limit is not None
        and (limit > stop_loss if exiting_long else limit < stop_loss)
    ):
        side = "at or below" if exiting_long else "at or above"
        raise BadUserInput(
            f"The stop-loss limit price must be {side} its stop price", field="stopLossLimitPrice"
        )


@dataclass(frozen=True, slots=True)
class Replacement:
    """What changes when an open order is replaced (ORD-02): Alpaca's PATCH fields.

    `trail` is the new trail price or percent, whichever the order trails by.
    """

    qty: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail: Decimal | None = None
    time_in_force: TimeInForce | None = None

    def to_json(self) -> dict[str, Any]:
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: _plain(v) for k, v in given.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Replacement:
        def amount(name: str) -> Decimal | None:
            raw = data.get(name)
            return Decimal(str(raw)) if raw is not None else None

        tif = data.get("time_in_force")
        return cls(
            qty=amount("qty"),
            limit_price=amount("limit_price"),
            stop_price=amount("stop_price"),
            trail=amount("trail"),
            time_in_force=TimeInForce(tif) if tif is not None else None,
        )


def validate_replacement(
    *,
    qty: object = None,
    limit_price: object = None,
    stop_price: object = None,
    trail_price: object = None,
    trail_percent: object = None,
    time_in_force: object = None,
) -> Replacement:
    """The changes these raw values ask for, or BadUserInput naming the field (ORD-02).

    Alpaca replaces whole shares only; whether each change fits the order being
    replaced is `replaced_intent`'s question.
    """
    amounts = {
        name: None if raw is None or raw == "" else parse_decimal(raw, name)
        for name, raw in (
            ("qty", qty),
            ("limit_price", limit_price),
            ("stop_price", stop_price),
            ("trail_price", trail_price),
            ("trail_percent", trail_percent),
        )
    }
    if amounts["trail_price"] is not None and amounts["trail_percent"] is not None:
        raise BadUserInput("Give a trail price or a trail percent, not both", field="trailPercent")
    new_qty = amounts["qty"]
    if new_qty is not None and new_qty != new_qty.to_integral_value():
        raise BadUserInput("A replaced order takes whole shares only", field="qty")
    tif = (
        None
        if time_in_force is None
        else _choice(time_in_force, "time_in_force", tuple(TimeInForce))
    )
    replacement = Replacement(
        qty=new_qty,
        limit_price=amounts["limit_price"],
        stop_price=amounts["stop_price"],
        trail=amounts["trail_price"] or amounts["trail_percent"],
        time_in_force=tif,
    )
    if replacement == Replacement():
        raise BadUserInput("Say what to change: quantity, a price or time in force", field="qty")
    return replacement


def _member(kind: type[_E], value: str | None, field: str) -> _E:
    for member in kind:
        if member.value == value:
            return member
    raise BadUserInput(f"This order's {field} cannot be replaced here", field="orderId")


def intent_of_order(order: BrokerOrder) -> OrderIntent:
    """An order read from the broker as the intent it stands for (its legs left out)."""
    if order.symbol is None or order.side is None:
        raise BadUserInput("This order cannot be replaced here", field="orderId")
    return OrderIntent(
        symbol=order.symbol,
        side=_member(Side, order.side, "side"),
        type=_member(OrderType, order.type, "type"),
        qty=order.qty,
        notional=order.notional if order.qty is None else None,
        limit_price=order.limit_price,
        stop_price=order.stop_price if order.type != OrderType.TRAILING_STOP.value else None,
        time_in_force=_member(TimeInForce, order.time_in_force, "time in force"),
        extended_hours=order.extended_hours,
        trail_price=order.trail_price,
        trail_percent=order.trail_percent,
    )


def replaced_intent(order: BrokerOrder, change: Replacement) -> OrderIntent:
    """The order as it would be after `change`, checked like a new order (ORD-01, ORD-02).

    Refuses a change the order cannot take: a quantity below what already filled,
    a price its type has no use for, a trail on an order that does not trail.
    """
    current = intent_of_order(order)
    filled = order.filled_qty or Decimal(0)
    if change.qty is not None and change.qty < filled:
        raise BadUserInput(
            f"{filled:f} shares of this order already filled; the new quantity cannot be lower",
            field="qty",
        )
    needed = REQUIRED_PRICES[current.type]
    for name in ("limit_price", "stop_price"):
        if getattr(change, name) is not None and name not in needed:
            raise BadUserInput(
                f"A {_type_name(current.type)} order has no {LABELS[name].lower()}",
                field=INPUT_FIELDS[name],
            )
    if current.notional is not None:
        raise BadUserInput(
            "A dollar-amount order cannot be replaced; cancel it and place a new one",
            field="orderId",
        )
    if change.trail is not None and current.type is not OrderType.TRAILING_STOP:
        raise BadUserInput("Only a trailing-stop order has a trail", field="trailPrice")
    by_percent = current.trail_percent is not None
    intent = replace(
        current,
        qty=change.qty if change.qty is not None else current.qty,
        limit_price=_or(change.limit_price, current.limit_price),
        stop_price=_or(change.stop_price, current.stop_price),
        time_in_force=change.time_in_force or current.time_in_force,
        trail_percent=_or(change.trail, current.trail_percent) if by_percent else None,
        trail_price=None if by_percent else _or(change.trail, current.trail_price),
    )
    check_shape(intent)
    return intent


def _or(new: Decimal | None, old: Decimal | None) -> Decimal | None:
    return new if new is not None else old
