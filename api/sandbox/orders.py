"""The order life cycle: submit, execute and fill, finish (cancel, expire, reject), list.

Every change happens in one synchronous call on the event loop, so cash,
positions and order states are always consistent with each other (no locks are
needed). Each change is announced to the listeners as a ``TradeEvent``; turning
it into Alpaca's JSON is ``wire``'s job, delivering it is ``stream``'s.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from api.sandbox.clock import MarketClock, now
from api.sandbox.errors import CODE_NOT_CANCELABLE, SandboxError, not_found
from api.sandbox.order_checks import check_order
from api.sandbox.prices import CENT, PriceBook, SandboxQuote
from api.sandbox.records import (
    Listener,
    SandboxAccount,
    SandboxOrder,
    SandboxPosition,
    TradeEvent,
    shares_for,
)
from api.sandbox.validation import OrderSubmission
from api.sandbox.valuation import Valuation

_GOOD_TILL_CANCELED_DAYS = 90


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: str = "open"
    limit: int = 50
    direction: str = "desc"
    after: datetime | None = None
    until: datetime | None = None
    symbols: frozenset[str] | None = None
    side: str | None = None

    def matches(self, order: SandboxOrder) -> bool:
        if self.status == "open" and not order.is_open:
            return False
        if self.status == "closed" and order.is_open:
            return False
        if self.after is not None and order.created_at <= self.after:
            return False
        if self.until is not None and order.created_at >= self.until:
            return False
        if self.symbols is not None and order.symbol not in self.symbols:
            return False
        return self.side is None or order.terms.side == self.side


class OrderDesk:
    """Places, executes and finishes the orders of every account."""

    def __init__(self, prices: PriceBook, clock: MarketClock, valuation: Valuation) -> None:
        self._prices = prices
        self._clock = clock
        self._valuation = valuation
        self._listeners: list[Listener] = []
        self._seq = 0

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # ----------------------------------------------------------------- placing

    def submit(
        self, account: SandboxAccount, request: OrderSubmission, closes_position: bool = False
    ) -> SandboxOrder:
        """Refuse an order (SandboxError) or store it, announce ``new``, execute it if possible."""
        quote = self._prices.quote(request.asset.symbol)
        check_order(self._valuation, account, request, quote, closes_position)
        order = self._new_order(account, request)
        self._emit(TradeEvent(account, "new", order, order.created_at))
        filled = self.execute(account, order)
        if not filled and order.is_open and request.time_in_force in {"ioc", "fok"}:
            # Immediate-or-cancel / fill-or-kill never rest on the book.
            self._finish(account, order, "canceled")
        return order

    def _new_order(self, account: SandboxAccount, request: OrderSubmission) -> SandboxOrder:
        created = now()
        self._seq += 1
        expires = (
            self._clock.next_close(created)
            if request.time_in_force == "day"
            else created + timedelta(days=_GOOD_TILL_CANCELED_DAYS)
        )
        order = SandboxOrder(
            id=uuid.uuid4(),
            seq=self._seq,
            client_order_id=request.client_order_id or str(uuid.uuid4()),
            position_intent=request.position_intent or _intent(account, request),
            terms=request,
            created_at=created,
            expires_at=expires,
            status="new" if self._clock.is_open else "accepted",
            updated_at=created,
        )
        account.orders[order.id] = order
        account.client_order_ids[order.client_order_id] = order.id
        return order

    # ----------------------------------------------------------------- executing

    def execute(self, account: SandboxAccount, order: SandboxOrder) -> bool:
        """Fill the order if the market allows it now; True if it filled."""
        if not self._clock.is_open or not order.is_open:
            return False
        price = _fill_price(order, self._prices.quote(order.symbol))
        if price is None:
            return False
        terms = order.terms
        qty = (
            terms.qty - order.filled_qty
            if terms.qty is not None
            else shares_for(terms.notional or Decimal(0), price)
        )
        if qty <= 0:
            self._finish(account, order, "rejected")
            return False
        return self.fill(account, order, qty, price)

    def fill(
        self, account: SandboxAccount, order: SandboxOrder, qty: Decimal, price: Decimal
    ) -> bool:
        """Execute ``qty`` of an open order at ``price``; moves cash and the position together."""
        buying = order.terms.side == "buy"
        value = (qty * price).quantize(CENT, ROUND_HALF_UP)
        if buying and value > self._valuation.payable(account):
            # A stop that triggered above what the account can pay: Alpaca rejects it.
            self._finish(account, order, "rejected")
            return False
        account.cash += -value if buying else value
        position_qty = _move_position(account, order, qty, price)
        before = order.filled_qty
        order.filled_qty = before + qty
        total = (order.filled_avg_price or Decimal(0)) * before + price * qty
        order.filled_avg_price = (
            (total / order.filled_qty).quantize(Decimal("0.0001"), ROUND_HALF_UP).normalize()
        )
        done = order.terms.qty is None or order.filled_qty >= order.terms.qty
        moment = order.touch("filled" if done else "partially_filled")
        if done:
            order.filled_at = moment
        self._emit(
            TradeEvent(
                account,
                "fill" if done else "partial_fill",
                order,
                moment,
                price=price,
                qty=qty,
                position_qty=position_qty,
                execution_id=uuid.uuid4(),
            )
        )
        return True

    def sweep(self, account: SandboxAccount, symbols: set[str] | None) -> None:
        """Give the account's resting orders on ``symbols`` (None: all) a chance to execute."""
        for order in sorted(account.orders.values(), key=lambda o: o.seq):
            if order.is_open and (symbols is None or order.symbol in symbols):
                self.execute(account, order)

    def wake(self, account: SandboxAccount) -> None:
        """Orders accepted while the market was closed become ``new`` once it opens."""
        for order in account.orders.values():
            if order.status == "accepted":
                order.touch("new")

    # ----------------------------------------------------------------- finishing

    def cancel(self, account: SandboxAccount, order_id: str) -> SandboxOrder:
        order = self.get(account, order_id)
        if not order.is_open:
            raise SandboxError(422, CODE_NOT_CANCELABLE, f"order is {order.status}, not cancelable")
        self._finish(account, order, "canceled")
        return order

    def cancel_all(self, account: SandboxAccount) -> list[SandboxOrder]:
        orders = [o for o in account.orders.values() if o.is_open]
        for order in orders:
            self._finish(account, order, "canceled")
        return orders

    def expire(self, account: SandboxAccount, order: SandboxOrder) -> None:
        if order.is_open:
            self._finish(account, order, "expired")

    def reject(self, account: SandboxAccount, order: SandboxOrder) -> None:
        if order.is_open:
            self._finish(account, order, "rejected")

    def _finish(self, account: SandboxAccount, order: SandboxOrder, status: str) -> None:
        """Move an open order to a final state and announce it (canceled/expired/rejected)."""
        moment = order.touch(status)
        if status == "canceled":
            order.canceled_at = moment
        elif status == "expired":
            order.expired_at = moment
        elif status == "rejected":
            order.failed_at = moment
        self._emit(TradeEvent(account, status, order, moment))

    # ----------------------------------------------------------------- reading

    @staticmethod
    def get(account: SandboxAccount, order_id: str) -> SandboxOrder:
        try:
            order = account.orders.get(uuid.UUID(order_id))
        except ValueError:
            order = None
        if order is None:
            raise not_found("order not found")
        return order

    @staticmethod
    def by_client_id(account: SandboxAccount, client_order_id: str) -> SandboxOrder:
        order_id = account.client_order_ids.get(client_order_id)
        if order_id is None:
            raise not_found("order not found")
        return account.orders[order_id]

    @staticmethod
    def matching(account: SandboxAccount, flt: OrderFilter) -> list[SandboxOrder]:
        orders = [o for o in account.orders.values() if flt.matches(o)]
        orders.sort(key=lambda o: o.seq, reverse=flt.direction == "desc")
        return orders[: flt.limit]

    def _emit(self, event: TradeEvent) -> None:
        for listener in self._listeners:
            listener(event)


def _intent(account: SandboxAccount, request: OrderSubmission) -> str:
    position = account.positions.get(request.asset.symbol)
    held = position.qty if position else Decimal(0)
    if request.side == "buy":
        return "buy_to_close" if held < 0 else "buy_to_open"
    return "sell_to_close" if held > 0 else "sell_to_open"


def _fill_price(order: SandboxOrder, quote: SandboxQuote) -> Decimal | None:
    """The price the order would execute at now, or None if it must keep resting."""
    terms = order.terms
    buying = terms.side == "buy"
    touch = quote.ask if buying else quote.bid
    if terms.type in {"stop", "stop_limit"} and not order.stop_triggered:
        stop = terms.stop_price
        assert stop is not None
        crossed = touch >= stop if buying else touch <= stop
        if not crossed:
            return None
        order.stop_triggered = True
    if terms.type in {"market", "stop"}:
        return touch
    limit = terms.limit_price
    assert limit is not None
    marketable = touch <= limit if buying else touch >= limit
    return touch if marketable else None


def _move_position(
    account: SandboxAccount, order: SandboxOrder, qty: Decimal, price: Decimal
) -> Decimal:
    """Apply a fill to the account's position; returns the position's new quantity."""
    symbol = order.symbol
    delta = qty if order.terms.side == "buy" else -qty
    position = account.positions.get(symbol)
    if position is None:
        account.positions[symbol] = SandboxPosition(order.terms.asset, delta, price)
        return delta
    old = position.qty
    new = old + delta
    if old * delta > 0:  # adding to the same side: weighted average entry
        position.avg_entry_price = (abs(old) * position.avg_entry_price + qty * price) / (
            abs(old) + qty
        )
    elif new * old < 0:  # crossed through zero: the remainder is a fresh position
        position.avg_entry_price = price
    position.qty = new
    if new == 0:
        del account.positions[symbol]
    return new
