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

Room to grow without restructuring: a bracket, OCO or OTO order is an
`OrderClass` plus leg fields on the intent and one more rule function in
`check_shape`; a trailing stop is its trail fields and a row in
`REQUIRED_PRICES`. Neither exists yet because neither the gateway nor the
sandbox broker can execute them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from api.broker import OrderRequest
from api.errors import BadUserInput


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Alpaca's order types. Orders read from the broker may be trailing stops (placed
    elsewhere); placing one needs trail fields the intent does not have yet."""

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
    """Only simple orders: bracket, OCO and OTO need legs the gateway cannot send yet."""

    SIMPLE = "simple"


# The prices each order type needs; a price an order type does not use is refused.
REQUIRED_PRICES: dict[OrderType, frozenset[str]] = {
    OrderType.MARKET: frozenset(),
    OrderType.LIMIT: frozenset({"limit_price"}),
    OrderType.STOP: frozenset({"stop_price"}),
    OrderType.STOP_LIMIT: frozenset({"limit_price", "stop_price"}),
}
PLACEABLE_TYPES: tuple[OrderType, ...] = tuple(REQUIRED_PRICES)
# Alpaca's crypto rules: no stop orders, and the market never closes, so no DAY orders.
CRYPTO_TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LIMIT)
CRYPTO_TIMES_IN_FORCE = (TimeInForce.GTC, TimeInForce.IOC)

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
}
LABELS = {
    "qty": "Quantity",
    "notional": "Dollar amount",
    "limit_price": "Limit price",
    "stop_price": "Stop price",
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
        )

    def describe(self, nickname: str, environment: str) -> str:
        """ "Buy 10 AAPL at market on Main (PAPER)"."""
        amount = f"${self.notional:,.2f} of" if self.notional is not None else f"{self.qty:f}"
        limit = f"limit ${self.limit_price:,.2f}" if self.limit_price is not None else ""
        stop = f"stop ${self.stop_price:,.2f}" if self.stop_price is not None else ""
        price = " ".join(p for p in (stop, limit) if p) or "at market"
        return f"{self.side.title()} {amount} {self.symbol} {price} on {nickname} ({environment})"


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
    raw_amounts = (qty, notional, limit_price, stop_price)
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
    rules = (_placeable, _one_amount, _notional_market_only, _crypto_rules, _stock_rules, _prices)
    for rule in rules:
        rule(intent)


def _placeable(intent: OrderIntent) -> None:
    if intent.type not in REQUIRED_PRICES:
        raise BadUserInput(
            "Trailing stop orders cannot be placed here yet; use a stop or stop-limit order",
            field="type",
        )


def _one_amount(intent: OrderIntent) -> None:
    if intent.qty is None and intent.notional is None:
        raise BadUserInput("Give either a quantity or a dollar amount", field="qty")
    if intent.qty is not None and intent.notional is not None:
        raise BadUserInput("Give a quantity or a dollar amount, not both", field="notional")


def _type_name(order_type: OrderType) -> str:
    return order_type.value.replace("_", "-")


def _prices(intent: OrderIntent) -> None:
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
    if intent.extended_hours and (
        intent.type is not OrderType.LIMIT or intent.time_in_force is not TimeInForce.DAY
    ):
        raise BadUserInput(
            "Extended hours need a limit order that lasts the day", field="extendedHours"
        )
