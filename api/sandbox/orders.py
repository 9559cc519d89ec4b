"""The order life cycle: submit, execute and fill, replace, finish (cancel, expire, reject).

Protective orders (ORD-01) work as at Alpaca: a bracket's or OTO's exits are
``held`` legs until the entry fills, then live; the exits of a bracket and the
two orders of an OCO pair cancel each other when one fills. A trailing stop
follows the high (sell) or low (buy) water mark of the price and triggers as
a market order when the price comes back by its trail. Crypto trades while the
stock market is closed (ORD-04). A replacement (ORD-02) is a new order with a
new id that ``replaces`` the old one, which ends ``replaced``.

Every change happens in one synchronous call on the event loop, so cash,
positions and order states are always consistent with each other (no locks are
needed). Each change is announced to the listeners as a ``TradeEvent``; turning
it into Alpaca's JSON is ``wire``'s job, delivering it is ``stream``'s.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from api.sandbox.clock import MarketClock, now
from api.sandbox.errors import CODE_NOT_CANCELABLE, SandboxError, not_found, unprocessable
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
from api.sandbox.validation import OrderSubmission, ReplaceSubmission
from api.sandbox.valuation import Valuation

_GOOD_TILL_CANCELED_DAYS = 90
# Alpaca replaces an order only while it works at the venue (or waits as a held leg).
_REPLACEABLE = frozenset({"new", "partially_filled", "held"})


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
        order.legs = [self._new_order(account, leg, parent=order) for leg in _legs(request)]
        self._emit(TradeEvent(account, "new", order, order.created_at))
        filled = self.execute(account, order)
        for leg in order.legs:
            self.execute(account, leg)  # an OCO's stop-loss works from the start
        if not filled and order.is_open and request.time_in_force in {"ioc", "fok"}:
            # Immediate-or-cancel / fill-or-kill never rest on the book.
            self._finish(account, order, "canceled")
        return order

    def _new_order(
        self,
        account: SandboxAccount,
        request: OrderSubmission,
        parent: SandboxOrder | None = None,
    ) -> SandboxOrder:
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
            status=self._opening_status(request, parent),
            updated_at=created,
            parent=parent,
        )
        if request.type == "trailing_stop":
            _trail(order, self._prices.quote(order.symbol))
        account.orders[order.id] = order
        account.client_order_ids[order.client_order_id] = order.id
        return order

    def _opening_status(self, request: OrderSubmission, parent: SandboxOrder | None) -> str:
        if parent is not None and parent.terms.order_class != "oco":
            return "held"  # a bracket's exits wait for their entry to fill
        return "new" if self._trading(request) else "accepted"

    def _trading(self, terms: OrderSubmission) -> bool:
        """Whether the order's market is open now: crypto's never closes (ORD-04)."""
        return self._clock.is_open or terms.asset.crypto

    # ----------------------------------------------------------------- executing

    def execute(self, account: SandboxAccount, order: SandboxOrder) -> bool:
        """Fill the order if the market allows it now; True if it filled."""
        if not self._trading(order.terms) or not order.is_open or order.status == "held":
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
        if done:
            self._after_fill(account, order)
        return True

    def _after_fill(self, account: SandboxAccount, order: SandboxOrder) -> None:
        """A filled exit cancels the others (OCO); a filled entry makes its exits live."""
        if order in order.exits:
            for other in order.exits:
                if other is not order and other.is_open:
                    self._finish(account, other, "canceled")
            return
        for leg in order.legs:
            if leg.status == "held":
                leg.touch("new")
                self._emit(TradeEvent(account, "new", leg, leg.updated_at))
        for leg in order.legs:
            self.execute(account, leg)

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
        """Cancel an open order; with an entry its held exits go, with an exit its pair."""
        order = self.get(account, order_id)
        if not order.is_open:
            raise SandboxError(422, CODE_NOT_CANCELABLE, f"order is {order.status}, not cancelable")
        self._finish(account, order, "canceled")
        for other in (*order.legs, *order.exits):
            if other.is_open:
                self._finish(account, other, "canceled")
        return order

    # ----------------------------------------------------------------- replacing

    def replace(
        self, account: SandboxAccount, order_id: str, change: ReplaceSubmission
    ) -> SandboxOrder:
        """PATCH /v2/orders/{id}: a new order on the changed terms replaces the old one."""
        old = self.get(account, order_id)
        if old.status not in _REPLACEABLE:
            raise unprocessable(f"order is {old.status}, cannot be replaced")
        terms = _replaced_terms(old, change)
        if terms.client_order_id and terms.client_order_id in account.client_order_ids:
            raise unprocessable("client_order_id must be unique")
        # What the old order (and the exits paired with it) reserve is not counted
        # against its own replacement.
        status = old.status
        group = {id(o): (o, o.status) for o in (old, *old.exits)}
        for member, _ in group.values():
            member.status = "pending_replace"
        try:
            check_order(self._valuation, account, terms, self._prices.quote(old.symbol), False)
        finally:
            for member, before in group.values():
                member.status = before
        new = self._new_order(account, terms, parent=old.parent)
        new.filled_qty, new.filled_avg_price = old.filled_qty, old.filled_avg_price
        new.status = status if status == "held" else self._opening_status(terms, None)
        new.replaces, new.legs = old.id, old.legs
        for leg in new.legs:
            leg.parent = new
        if old.parent is not None:
            old.parent.legs = [new if leg is old else leg for leg in old.parent.legs]
        old.legs = []
        moment = old.touch("replaced")
        old.replaced_at, old.replaced_by = moment, new.id
        self._emit(TradeEvent(account, "replaced", old, moment))
        self._emit(TradeEvent(account, "new", new, new.created_at))
        self.execute(account, new)
        return new

    def cancel_all(self, account: SandboxAccount) -> list[SandboxOrder]:
        orders = [o for o in account.orders.values() if o.is_open]
        for order in orders:
            if order.is_open:
                self._finish(account, order, "canceled")
        return orders

    def expire(self, account: SandboxAccount, order: SandboxOrder) -> None:
        if order.is_open:
            self._finish(account, order, "expired")
            for leg in order.legs:
                if leg.status == "held":
                    self._finish(account, leg, "canceled")

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
    def matching(
        account: SandboxAccount, flt: OrderFilter, nested: bool = False
    ) -> list[SandboxOrder]:
        """Orders by the filter; ``nested`` lists legs under their parents only."""
        orders = [
            o
            for o in account.orders.values()
            if flt.matches(o) and not (nested and o.parent is not None)
        ]
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
    if terms.type == "trailing_stop":
        trail_stop = _trail(order, quote)
        if not order.stop_triggered and not (
            quote.price >= trail_stop if buying else quote.price <= trail_stop
        ):
            return None
        order.stop_triggered = True
        return touch
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


def _trail(order: SandboxOrder, quote: SandboxQuote) -> Decimal:
    """Move a trailing stop's water mark with the price; returns the stop it makes now."""
    terms = order.terms
    buying = terms.side == "buy"
    mark = quote.price
    if order.hwm is not None:
        mark = min(order.hwm, mark) if buying else max(order.hwm, mark)
    order.hwm = mark
    if terms.trail_price is not None:
        gap = terms.trail_price
    else:
        gap = (mark * (terms.trail_percent or Decimal(0)) / 100).quantize(CENT, ROUND_HALF_UP)
    order.trail_stop = mark + gap if buying else max(CENT, mark - gap)
    return order.trail_stop


def _legs(request: OrderSubmission) -> list[OrderSubmission]:
    """The exit orders a bracket, OTO or OCO carries, as orders of their own."""
    if request.order_class == "simple":
        return []
    exit_side = "sell" if request.side == "buy" else "buy"
    if request.order_class == "oco":
        exit_side = request.side  # the pair itself is the exit
    base = OrderSubmission(
        asset=request.asset,
        side=exit_side,
        type="limit",
        time_in_force=request.time_in_force,
        qty=request.qty,
    )
    legs = []
    if request.take_profit_limit_price is not None and request.order_class != "oco":
        legs.append(replace(base, limit_price=request.take_profit_limit_price))
    if request.stop_loss_stop_price is not None:
        limit = request.stop_loss_limit_price
        legs.append(
            replace(
                base,
                type="stop" if limit is None else "stop_limit",
                stop_price=request.stop_loss_stop_price,
                limit_price=limit,
            )
        )
    return legs


def _replaced_terms(order: SandboxOrder, change: ReplaceSubmission) -> OrderSubmission:
    terms = order.terms
    if terms.notional is not None:
        raise unprocessable("notional orders cannot be replaced")
    if change.qty is not None and change.qty < order.filled_qty:
        raise unprocessable("qty must be greater than or equal to filled_qty")
    if change.limit_price is not None and terms.type not in {"limit", "stop_limit"}:
        raise unprocessable("limit_price is not applicable to this order type")
    if change.stop_price is not None and terms.type not in {"stop", "stop_limit"}:
        raise unprocessable("stop_price is not applicable to this order type")
    if change.trail is not None and terms.type != "trailing_stop":
        raise unprocessable("trail is only applicable to trailing_stop orders")
    by_percent = terms.trail_percent is not None
    new_trail = change.trail
    return replace(
        terms,
        qty=change.qty if change.qty is not None else terms.qty,
        limit_price=change.limit_price if change.limit_price is not None else terms.limit_price,
        stop_price=change.stop_price if change.stop_price is not None else terms.stop_price,
        time_in_force=change.time_in_force or terms.time_in_force,
        client_order_id=change.client_order_id,
        position_intent=None,
        trail_percent=(new_trail or terms.trail_percent) if by_percent else None,
        trail_price=None if by_percent else (new_trail or terms.trail_price),
    )
