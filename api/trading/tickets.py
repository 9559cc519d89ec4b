"""An order as a person asks for it, checked for shape before any broker call.

The same ticket serves `placeOrder`, chat proposals and their confirmation,
so every path validates an order exactly the same way (TRADE-02).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from api.broker import OrderRequest
from api.errors import BadUserInput

SIDES = ("buy", "sell")
TYPES = ("market", "limit", "stop", "stop_limit")
TIMES_IN_FORCE = ("day", "gtc", "ioc", "fok", "opg", "cls")
_SYMBOL = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")
_MAX_AMOUNT = Decimal("1000000000")


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadUserInput(f"{field} must be a number", field=field) from None
    if not number.is_finite() or number <= 0:
        raise BadUserInput(f"{field} must be positive", field=field)
    if number > _MAX_AMOUNT:
        raise BadUserInput(f"{field} is too large", field=field)
    return number


@dataclass(frozen=True, slots=True)
class OrderTicket:
    symbol: str
    side: str
    type: str = "market"
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str = "day"
    extended_hours: bool = False

    @classmethod
    def parse(
        cls,
        *,
        symbol: str,
        side: str,
        type: str = "market",
        qty: Any = None,
        notional: Any = None,
        limit_price: Any = None,
        stop_price: Any = None,
        time_in_force: str = "day",
        extended_hours: bool = False,
    ) -> OrderTicket:
        """Normalise and check everything that needs no broker (TRADE-02, first half)."""
        sym = str(symbol or "").strip().upper()
        if not _SYMBOL.match(sym):
            raise BadUserInput("Enter a ticker symbol such as AAPL", field="symbol")
        side, order_type = str(side).lower(), str(type).lower()
        tif = str(time_in_force).lower()
        if side not in SIDES:
            raise BadUserInput("Side must be buy or sell", field="side")
        if order_type not in TYPES:
            raise BadUserInput("Type must be market, limit, stop or stop-limit", field="type")
        if tif not in TIMES_IN_FORCE:
            raise BadUserInput("Unknown time in force", field="timeInForce")
        ticket = cls(
            symbol=sym,
            side=side,
            type=order_type,
            qty=_decimal(qty, "qty"),
            notional=_decimal(notional, "notional"),
            limit_price=_decimal(limit_price, "limitPrice"),
            stop_price=_decimal(stop_price, "stopPrice"),
            time_in_force=tif,
            extended_hours=bool(extended_hours),
        )
        ticket._check_shape()
        return ticket

    def _check_shape(self) -> None:
        if (self.qty is None) == (self.notional is None):
            raise BadUserInput("Give either a quantity or a dollar amount", field="qty")
        needs_limit = self.type in ("limit", "stop_limit")
        needs_stop = self.type in ("stop", "stop_limit")
        if needs_limit != (self.limit_price is not None):
            raise BadUserInput("A limit price is needed for limit orders only", field="limitPrice")
        if needs_stop != (self.stop_price is not None):
            raise BadUserInput("A stop price is needed for stop orders only", field="stopPrice")
        if self.notional is not None and (self.type != "market" or self.time_in_force != "day"):
            raise BadUserInput(
                "Dollar amounts work only for market orders that last the day", field="notional"
            )
        if self.extended_hours and (self.type != "limit" or self.time_in_force != "day"):
            raise BadUserInput(
                "Extended hours need a limit order that lasts the day", field="extendedHours"
            )

    @property
    def fractional(self) -> bool:
        return self.notional is not None or (
            self.qty is not None and self.qty != self.qty.to_integral_value()
        )

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderTicket:
        return cls.parse(**data)

    def request(self, client_order_id: str | None = None) -> OrderRequest:
        return OrderRequest(
            symbol=self.symbol,
            side=self.side,  # type: ignore[arg-type]
            type=self.type,  # type: ignore[arg-type]
            qty=self.qty,
            notional=self.notional,
            time_in_force=self.time_in_force,  # type: ignore[arg-type]
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            extended_hours=self.extended_hours,
            client_order_id=client_order_id,
        )

    def describe(self, nickname: str, environment: str) -> str:
        """ "Buy 10 AAPL at market on Main (PAPER)"."""
        amount = f"${self.notional:,.2f} of" if self.notional is not None else f"{self.qty:f}"
        price = {
            "market": "at market",
            "limit": f"limit ${self.limit_price:,.2f}" if self.limit_price else "",
            "stop": f"stop ${self.stop_price:,.2f}" if self.stop_price else "",
            "stop_limit": (
                f"stop ${self.stop_price:,.2f} limit ${self.limit_price:,.2f}"
                if self.stop_price and self.limit_price
                else ""
            ),
        }[self.type]
        return f"{self.side.title()} {amount} {self.symbol} {price} on {nickname} ({environment})"
