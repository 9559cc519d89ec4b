"""The one check of every order against the owner's limits (RISK-01, RISK-02).

`judge` is a pure function: the order, the account's limits and halt, what
the broker says now (balances, positions, prices) and today's order count in,
a `Verdict` out. Every path that ends in an order (the ticket, a chat
proposal, a confirmation, a close) calls it, and placement refuses to send an
order without the allowed verdict made for that very order
(docs/architecture.md, decision 5): a new path that forgets the check cannot
place anything.

It errs on the safe side (RISK-02):

* a buy is valued at its quantity times the highest of the ask, the last
  trade, the limit price and the stop price (a sell at the highest price
  known, the bid too); a dollar-amount order at its amount; with no price at
  all a capped order is refused (`PRICE_UNKNOWN`) rather than waved through;
* an order that only makes a position smaller passes every guard, the halt
  included, so a person can always get out; one that would turn a position
  around is judged as a whole new position;
* the day's loss is the broker's equity against its last close, and once it
  has reached the limit nothing that adds risk goes out.

Every guard is a member of `Guard` and has exactly one rule in `_RULES`; the
module refuses to load if the two disagree, so there is no guard type that
nothing checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum, StrEnum
from uuid import UUID

from api.broker import BrokerPosition, BrokerQuote, OrderRequest, Snapshot
from api.errors import AccountHalted, LimitExceeded
from api.trading.orders import same_symbol


class Guard(StrEnum):
    """Why an order may be refused; the value is `extensions.guard` of LIMIT_EXCEEDED."""

    ACCOUNT_HALTED = "account_halted"
    SYMBOL_DENIED = "symbol_denied"
    SYMBOL_NOT_ALLOWED = "symbol_not_allowed"
    SHORT_NOT_ALLOWED = "short_not_allowed"
    PRICE_UNKNOWN = "price_unknown"
    MAX_ORDER_NOTIONAL = "max_order_notional"
    MAX_ORDERS_PER_DAY = "max_orders_per_day"
    MAX_DAILY_LOSS = "max_daily_loss"


class Source(StrEnum):
    """The path an order came by, recorded with every decision (RISK-05)."""

    TICKET = "ticket"
    CHAT = "chat"
    CONFIRM = "confirm"
    REPLACE = "replace"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class Limits:
    """An account's limits; None (or an empty deny list) means no limit of that kind."""

    max_order_notional: Decimal | None = None
    max_daily_loss: Decimal | None = None
    max_orders_per_day: int | None = None
    allowed_symbols: tuple[str, ...] | None = None
    denied_symbols: tuple[str, ...] = ()
    allow_short: bool | None = None


NO_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Market:
    """What the broker says about the account and the symbol right now.

    Anything unknown is None, and a guard that needs it refuses: a missing
    snapshot cannot hide a daily loss, a missing price cannot hide a notional.
    """

    snapshot: Snapshot | None = None
    positions: Sequence[BrokerPosition] = ()
    quote: BrokerQuote | None = None
    last_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    guard: Guard
    limit: str
    value: str
    message: str


class _Effect(Enum):
    REDUCES = "reduces"  # only makes a position smaller
    ADDS = "adds"  # opens or grows a long, or turns a short into a long
    SHORTS = "shorts"  # opens or grows a short (a sell beyond what is held)


_SEAL = object()


@dataclass(slots=True)
class Verdict:
    """What `judge` decided about one order on one account; made only by `judge`.

    Placement sends an order only with the allowed verdict for that exact
    request on that account, once (`admit`): a verdict cannot be reused for a
    second order, nor for a changed one.
    """

    account_id: UUID
    request: OrderRequest
    refusal: Refusal | None
    reduces_only: bool
    halted: bool
    headroom: tuple[str, ...]
    seal: object = field(repr=False)
    spent: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.seal is not _SEAL:
            raise TypeError("a Verdict is made by api.trading.guards.judge only")

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    def raise_if_refused(self) -> Verdict:
        """The verdict itself, or LIMIT_EXCEEDED / ACCOUNT_HALTED naming the guard."""
        refusal = self.refusal
        if refusal is None:
            return self
        if refusal.guard is Guard.ACCOUNT_HALTED:
            raise AccountHalted(refusal.message)
        raise LimitExceeded(
            refusal.message, guard=refusal.guard.value, limit=refusal.limit, value=refusal.value
        )

    def admit(self, account_id: UUID, request: OrderRequest, client_order_id: str) -> None:
        """Spend this verdict on sending `request`; anything but its own order is a bug."""
        same_order = replace(self.request, client_order_id=None) == replace(
            request, client_order_id=None
        )
        same_id = self.request.client_order_id in (None, client_order_id)
        if self.spent or not self.allowed or self.account_id != account_id:
            raise UnjudgedOrder("no allowed, unspent verdict for this account")
        if not (same_order and same_id):
            raise UnjudgedOrder("the verdict was made for another order")
        self.spent = True


class UnjudgedOrder(RuntimeError):
    """An order reached placement without its own allowed verdict: a bug, never sent."""


def judge(
    account_id: UUID,
    request: OrderRequest,
    limits: Limits,
    *,
    halted: bool,
    market: Market,
    orders_today: int,
) -> Verdict:
    """Decide `request` on the account; pure: the same inputs give the same verdict."""
    effect = _effect(request, market)
    headroom = _headroom(limits, market, orders_today)
    refusal = None
    if effect is not _Effect.REDUCES:
        context = _Context(request, limits, halted, market, orders_today, effect)
        refusal = next((r for rule in _RULES.values() if (r := rule(context)) is not None), None)
    return Verdict(
        account_id=account_id,
        request=request,
        refusal=refusal,
        reduces_only=effect is _Effect.REDUCES,
        halted=halted,
        headroom=headroom,
        seal=_SEAL,
    )


@dataclass(frozen=True, slots=True)
class _Context:
    request: OrderRequest
    limits: Limits
    halted: bool
    market: Market
    orders_today: int
    effect: _Effect


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _plain(value: Decimal | int) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _held(request: OrderRequest, positions: Sequence[BrokerPosition]) -> Decimal:
    """The signed quantity held in the order's symbol: long positive, short negative."""
    total = Decimal(0)
    for position in positions:
        if same_symbol(position.symbol, request.symbol):
            size = abs(position.qty)
            total += -size if position.side == "short" else size
    return total


def _prices(request: OrderRequest, market: Market) -> list[Decimal]:
    quote = market.quote
    known = [request.limit_price, request.stop_price, market.last_price]
    if quote is not None:
        known += [quote.ask_price] if request.side == "buy" else [quote.ask_price, quote.bid_price]
    return [p for p in known if p is not None and p.is_finite() and p > 0]


def _shares(request: OrderRequest, market: Market) -> Decimal | None:
    """How many shares the order may trade, counted high; None when it cannot be told."""
    if request.qty is not None:
        return request.qty
    prices = _prices(request, market)
    if request.notional is None or not prices:
        return None
    # A dollar amount buys the most shares at the lowest price.
    return request.notional / min(prices)


def _effect(request: OrderRequest, market: Market) -> _Effect:
    held = _held(request, market.positions)
    shares = _shares(request, market)
    if request.side == "buy":
        if held < 0 and shares is not None and shares <= -held:
            return _Effect.REDUCES
        return _Effect.ADDS
    if held > 0 and shares is not None and shares <= held:
        return _Effect.REDUCES
    return _Effect.SHORTS


def _notional(request: OrderRequest, market: Market) -> Decimal | None:
    """The order's value, counted high (RISK-02); None when no price is known."""
    if request.notional is not None:
        return request.notional
    prices = _prices(request, market)
    if request.qty is None or not prices:
        return None
    return request.qty * max(prices)


def _day_loss(snapshot: Snapshot) -> Decimal:
    return max(Decimal(0), snapshot.last_equity - snapshot.equity)


def _headroom(limits: Limits, market: Market, orders_today: int) -> tuple[str, ...]:
    """What is left under the day's limits, for the proposal card: "$1,200 of $5,000 ..."."""
    lines = []
    if limits.max_daily_loss is not None and market.snapshot is not None:
        left = max(Decimal(0), limits.max_daily_loss - _day_loss(market.snapshot))
        lines.append(f"{_money(left)} of {_money(limits.max_daily_loss)} daily loss left today")
    if limits.max_orders_per_day is not None:
        left_orders = max(0, limits.max_orders_per_day - orders_today)
        lines.append(f"{left_orders} of {limits.max_orders_per_day} orders left today")
    if limits.max_order_notional is not None:
        lines.append(f"up to {_money(limits.max_order_notional)} per order")
    return tuple(lines)


def _listed(symbol: str, symbols: Sequence[str]) -> bool:
    return any(same_symbol(listed, symbol) for listed in symbols)


def _halted(c: _Context) -> Refusal | None:
    if not c.halted:
        return None
    return Refusal(
        Guard.ACCOUNT_HALTED,
        "halted",
        c.request.symbol,
        "This account is halted: no new orders until you resume it. You can still close positions.",
    )


def _denied(c: _Context) -> Refusal | None:
    symbol = c.request.symbol
    if not _listed(symbol, c.limits.denied_symbols):
        return None
    return Refusal(
        Guard.SYMBOL_DENIED,
        ", ".join(c.limits.denied_symbols),
        symbol,
        f"Refused by your limits: {symbol} is on this account's deny list.",
    )


def _not_allowed(c: _Context) -> Refusal | None:
    allowed = c.limits.allowed_symbols
    symbol = c.request.symbol
    if allowed is None or _listed(symbol, allowed):
        return None
    shown = ", ".join(allowed) or "none"
    return Refusal(
        Guard.SYMBOL_NOT_ALLOWED,
        shown,
        symbol,
        f"Refused by your limits: {symbol} is not among the symbols this account may trade "
        f"({shown}).",
    )


def _short(c: _Context) -> Refusal | None:
    if c.effect is not _Effect.SHORTS or c.limits.allow_short is not False:
        return None
    return Refusal(
        Guard.SHORT_NOT_ALLOWED,
        "false",
        c.request.symbol,
        f"Refused by your limits: this sell would open or grow a short position in "
        f"{c.request.symbol}, and short selling is off for this account.",
    )


def _price_unknown(c: _Context) -> Refusal | None:
    if c.limits.max_order_notional is None or _notional(c.request, c.market) is not None:
        return None
    return Refusal(
        Guard.PRICE_UNKNOWN,
        _plain(c.limits.max_order_notional),
        c.request.symbol,
        f"Refused: no price is known for {c.request.symbol}, so the order cannot be checked "
        "against your per-order limit. Give a limit price.",
    )


def _max_notional(c: _Context) -> Refusal | None:
    cap = c.limits.max_order_notional
    value = _notional(c.request, c.market)
    if cap is None or value is None or value <= cap:
        return None
    return Refusal(
        Guard.MAX_ORDER_NOTIONAL,
        _plain(cap),
        _plain(value),
        f"Refused by your per-order limit: this order is worth up to {_money(value)}, "
        f"the limit is {_money(cap)}.",
    )


def _max_orders(c: _Context) -> Refusal | None:
    cap = c.limits.max_orders_per_day
    if cap is None or c.orders_today < cap:
        return None
    return Refusal(
        Guard.MAX_ORDERS_PER_DAY,
        str(cap),
        str(c.orders_today + 1),
        f"Refused by your daily order limit: {c.orders_today} of {cap} orders were already "
        "sent today.",
    )


def _daily_loss(c: _Context) -> Refusal | None:
    cap = c.limits.max_daily_loss
    if cap is None:
        return None
    snapshot = c.market.snapshot
    if snapshot is None:
        return Refusal(
            Guard.MAX_DAILY_LOSS,
            _plain(cap),
            "unknown",
            "Refused: today's loss cannot be read from the broker, so your daily loss limit "
            "cannot be checked.",
        )
    loss = _day_loss(snapshot)
    if loss < cap:
        return None
    return Refusal(
        Guard.MAX_DAILY_LOSS,
        _plain(cap),
        _plain(loss),
        f"Refused by your daily loss limit: the account is down {_money(loss)} today, the "
        f"limit is {_money(cap)}. Only orders that reduce positions go out until tomorrow.",
    )


_Rule = Callable[[_Context], Refusal | None]
# In the order a person should hear about them: the halt first, money last.
_RULES: dict[Guard, _Rule] = {
    Guard.ACCOUNT_HALTED: _halted,
    Guard.SYMBOL_DENIED: _denied,
    Guard.SYMBOL_NOT_ALLOWED: _not_allowed,
    Guard.SHORT_NOT_ALLOWED: _short,
    Guard.PRICE_UNKNOWN: _price_unknown,
    Guard.MAX_ORDER_NOTIONAL: _max_notional,
    Guard.MAX_ORDERS_PER_DAY: _max_orders,
    Guard.MAX_DAILY_LOSS: _daily_loss,
}
if set(_RULES) != set(Guard):  # pragma: no cover - a guard without a rule must not load
    raise RuntimeError(f"guards without a rule: {set(Guard) - set(_RULES)}")
