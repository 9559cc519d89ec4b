"""The sandbox's brokerage engine: accounts, keys, orders, positions and fills.

Everything the REST routes and the stream report comes from here, and every
state change happens in one synchronous call on the event loop, so cash,
positions and order states are always consistent with each other (no locks are
needed). Fills are announced to a listener as ``TradeEvent`` objects; turning
them into Alpaca's JSON is ``wire``'s job, delivering them is ``stream``'s.
"""

from __future__ import annotations

import hmac
import secrets
import string
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from api.sandbox.assets import Asset, find_asset
from api.sandbox.errors import CODE_NOT_CANCELABLE, BrokerError, forbidden, not_found, unprocessable
from api.sandbox.prices import CENT, PriceBook, Quote
from api.sandbox.validation import OrderRequest

ENVIRONMENTS = ("paper", "live")
OPEN_STATUSES = frozenset({"new", "accepted", "pending_new", "partially_filled", "held"})
QTY_PLACES = Decimal("0.000000001")  # Alpaca accepts up to 9 decimals of a share.
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
_KEY_PREFIX = {"paper": "PK", "live": "AK"}


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Position:
    asset: Asset
    qty: Decimal  # negative for a short position
    avg_entry_price: Decimal


@dataclass(slots=True)
class Order:
    id: uuid.UUID
    seq: int
    client_order_id: str
    asset: Asset
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    extended_hours: bool
    position_intent: str
    created_at: datetime
    expires_at: datetime
    status: str = "new"
    updated_at: datetime = field(default_factory=now)
    filled_at: datetime | None = None
    expired_at: datetime | None = None
    canceled_at: datetime | None = None
    failed_at: datetime | None = None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    stop_triggered: bool = False

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def touch(self, status: str) -> datetime:
        moment = now()
        self.status = status
        self.updated_at = moment
        return moment


@dataclass(slots=True)
class Account:
    id: uuid.UUID
    account_number: str
    environment: str
    cash: Decimal
    created_at: datetime
    shorting_enabled: bool
    starting_equity: Decimal = Decimal(0)
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[uuid.UUID, Order] = field(default_factory=dict)
    client_order_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    orders_received: int = 0
    rest_calls: int = 0


@dataclass(slots=True)
class Credential:
    key_id: str
    secret: str
    account_number: str
    environment: str
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class MintedKeys:
    api_key_id: str
    secret_key: str
    account_number: str
    environment: str

    def as_dict(self) -> dict[str, str]:
        return {
            "api_key_id": self.api_key_id,
            "secret_key": self.secret_key,
            "account_number": self.account_number,
            "environment": self.environment,
        }


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One trade-update event for one account, in engine terms."""

    account: Account
    event: str
    order: Order
    timestamp: datetime
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None
    execution_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: str = "open"
    limit: int = 50
    direction: str = "desc"
    after: datetime | None = None
    until: datetime | None = None
    symbols: frozenset[str] | None = None
    side: str | None = None


Listener = Callable[[TradeEvent], None]


class MarketClock:
    """Market hours as the sandbox reports them; open unless a test closes it."""

    def __init__(self) -> None:
        self.is_open = True

    def next_close(self, at: datetime) -> datetime:
        close = at.replace(hour=20, minute=0, second=0, microsecond=0)
        return close if close > at else close + timedelta(days=1)

    def next_open(self, at: datetime) -> datetime:
        opening = at.replace(hour=13, minute=30, second=0, microsecond=0)
        while opening <= at or (self.is_open and opening < self.next_close(at)):
            opening += timedelta(days=1)
        return opening


class Broker:
    """All accounts of one sandbox process. Accounts never see each other's data."""

    def __init__(self, prices: PriceBook, clock: MarketClock) -> None:
        self.prices = prices
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self._credentials: dict[str, Credential] = {}
        self._listeners: list[Listener] = []
        self._seq = 0

    # ----------------------------------------------------------------- accounts

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def mint_account(
        self,
        environment: str,
        cash: Decimal,
        positions: Iterable[tuple[str, Decimal, Decimal]] = (),
        shorting_enabled: bool = False,
    ) -> MintedKeys:
        """Create an account with its own key pair; positions are (symbol, qty, avg_entry_price)."""
        if environment not in ENVIRONMENTS:
            raise unprocessable("environment must be paper or live")
        account = Account(
            id=uuid.uuid4(),
            account_number=self._new_account_number(environment),
            environment=environment,
            cash=cash.quantize(CENT, ROUND_HALF_UP),
            created_at=now(),
            shorting_enabled=shorting_enabled,
        )
        for symbol, qty, avg in positions:
            asset = find_asset(symbol)
            if asset is None:
                raise unprocessable(f'asset "{symbol}" not found')
            account.positions[asset.symbol] = Position(asset, qty, avg)
        # last_equity is the equity the account started with, so day P/L starts at zero.
        account.starting_equity = self.equity(account)
        self.accounts[account.account_number] = account
        return self._issue_keys(account)

    def _issue_keys(self, account: Account) -> MintedKeys:
        key_id = _KEY_PREFIX[account.environment] + _random(_KEY_ALPHABET, 18)
        while key_id in self._credentials:
            key_id = _KEY_PREFIX[account.environment] + _random(_KEY_ALPHABET, 18)
        secret = _random(_SECRET_ALPHABET, 40)
        self._credentials[key_id] = Credential(
            key_id, secret, account.account_number, account.environment
        )
        return MintedKeys(key_id, secret, account.account_number, account.environment)

    def _new_account_number(self, environment: str) -> str:
        while True:
            if environment == "paper":
                number = "PA" + _random(_KEY_ALPHABET, 10)
            else:
                number = str(100_000_000 + secrets.randbelow(900_000_000))
            if number not in self.accounts:
                return number

    def revoke(self, account_number: str) -> int:
        """Stop every key of an account from working; returns how many were revoked."""
        if account_number not in self.accounts:
            raise not_found("account not found")
        revoked = 0
        for credential in self._credentials.values():
            if credential.account_number == account_number and not credential.revoked:
                credential.revoked = True
                revoked += 1
        return revoked

    def account_for_key(self, key_id: str | None) -> Account | None:
        """The account a key id names, without checking the secret (for call statistics)."""
        credential = self._credentials.get(key_id or "")
        return self.accounts.get(credential.account_number) if credential else None

    def authenticate(
        self, key_id: str | None, secret: str | None, environment: str | None
    ) -> Account | None:
        """The account for a valid, unrevoked key pair of ``environment`` (None: either)."""
        credential = self._credentials.get(key_id or "")
        if credential is None or credential.revoked or secret is None:
            return None
        if not hmac.compare_digest(credential.secret.encode(), secret.encode()):
            return None
        if environment is not None and credential.environment != environment:
            return None
        return self.accounts[credential.account_number]

    # ----------------------------------------------------------------- figures

    def market_value(self, position: Position) -> Decimal:
        return (position.qty * self.prices.price(position.asset.symbol)).quantize(
            CENT, ROUND_HALF_UP
        )

    def long_market_value(self, account: Account) -> Decimal:
        return sum(
            (self.market_value(p) for p in account.positions.values() if p.qty > 0), Decimal(0)
        )

    def short_market_value(self, account: Account) -> Decimal:
        return sum(
            (self.market_value(p) for p in account.positions.values() if p.qty < 0), Decimal(0)
        )

    def equity(self, account: Account) -> Decimal:
        return account.cash + self.long_market_value(account) + self.short_market_value(account)

    def buying_power(self, account: Account) -> Decimal:
        """Cash account: cash, less what open buys have reserved and what shorts tie up."""
        reserved = sum(
            (self._reserved(o) for o in account.orders.values() if o.is_open and o.side == "buy"),
            Decimal(0),
        )
        power = account.cash + 2 * self.short_market_value(account) - reserved
        return max(Decimal(0), power).quantize(CENT, ROUND_DOWN)

    def _reserved(self, order: Order) -> Decimal:
        if order.notional is not None:
            return order.notional
        reference = (
            order.limit_price or order.stop_price or self.prices.quote(order.asset.symbol).ask
        )
        return ((order.qty or Decimal(0)) - order.filled_qty) * reference

    def qty_available(self, account: Account, symbol: str) -> Decimal:
        """Shares of a long position not already promised to open sell orders."""
        position = account.positions.get(symbol)
        held = position.qty if position and position.qty > 0 else Decimal(0)
        promised = sum(
            (
                self._open_qty(o)
                for o in account.orders.values()
                if o.is_open and o.side == "sell" and o.asset.symbol == symbol
            ),
            Decimal(0),
        )
        return max(Decimal(0), held - promised)

    def _open_qty(self, order: Order) -> Decimal:
        if order.qty is not None:
            return order.qty - order.filled_qty
        return _shares_for(order.notional or Decimal(0), self.prices.quote(order.asset.symbol).bid)

    # ----------------------------------------------------------------- orders

    def submit(self, account: Account, request: OrderRequest) -> Order:
        """Refuse an order (BrokerError) or store it, announce ``new``, execute it if possible."""
        if request.client_order_id and request.client_order_id in account.client_order_ids:
            # Unique for the account's whole history, canceled orders included: this is what
            # makes a retried placement with the same id safe.
            raise unprocessable("client_order_id must be unique")
        quote = self.prices.quote(request.asset.symbol)
        if request.side == "buy":
            self._check_buying_power(account, request, quote)
        else:
            self._check_sell(account, request, quote)
        order = self._new_order(account, request)
        self._emit(TradeEvent(account, "new", order, order.created_at))
        filled = self._execute(account, order)
        if not filled and order.is_open and order.time_in_force in {"ioc", "fok"}:
            # Immediate-or-cancel / fill-or-kill never rest on the book.
            self._finish(account, order, "canceled")
        return order

    def _check_buying_power(self, account: Account, request: OrderRequest, quote: Quote) -> None:
        if request.notional is not None:
            cost = request.notional
        else:
            reference = request.limit_price or request.stop_price or quote.ask
            cost = (request.qty or Decimal(0)) * reference
        if cost > self.buying_power(account):
            raise forbidden("insufficient buying power")

    def _check_sell(self, account: Account, request: OrderRequest, quote: Quote) -> None:
        symbol = request.asset.symbol
        wanted = (
            request.qty
            if request.qty is not None
            else _shares_for(request.notional or Decimal(0), quote.bid)
        )
        position = account.positions.get(symbol)
        held = position.qty if position else Decimal(0)
        available = self.qty_available(account, symbol)
        if wanted <= available:
            return
        if held > 0 or not self._may_short(account, request):
            raise insufficient_qty(wanted, available)
        if wanted * quote.bid > self.buying_power(account):
            raise forbidden("insufficient buying power")

    @staticmethod
    def _may_short(account: Account, request: OrderRequest) -> bool:
        asset = request.asset
        whole = request.qty is not None and request.qty == request.qty.to_integral_value()
        return account.shorting_enabled and asset.shortable and asset.easy_to_borrow and whole

    def _new_order(self, account: Account, request: OrderRequest) -> Order:
        created = now()
        self._seq += 1
        expires = (
            self.clock.next_close(created)
            if request.time_in_force == "day"
            else created + timedelta(days=90)
        )
        order = Order(
            id=uuid.uuid4(),
            seq=self._seq,
            client_order_id=request.client_order_id or str(uuid.uuid4()),
            asset=request.asset,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            qty=request.qty,
            notional=request.notional,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            extended_hours=request.extended_hours,
            position_intent=request.position_intent or self._intent(account, request),
            created_at=created,
            expires_at=expires,
            status="new" if self.clock.is_open else "accepted",
            updated_at=created,
        )
        account.orders[order.id] = order
        account.client_order_ids[order.client_order_id] = order.id
        return order

    @staticmethod
    def _intent(account: Account, request: OrderRequest) -> str:
        position = account.positions.get(request.asset.symbol)
        held = position.qty if position else Decimal(0)
        if request.side == "buy":
            return "buy_to_close" if held < 0 else "buy_to_open"
        return "sell_to_close" if held > 0 else "sell_to_open"

    def _execute(self, account: Account, order: Order) -> bool:
        """Fill the order if the market allows it now; True if it filled."""
        if not self.clock.is_open or not order.is_open:
            return False
        quote = self.prices.quote(order.asset.symbol)
        price = self._fill_price(order, quote)
        if price is None:
            return False
        qty = (
            order.qty - order.filled_qty
            if order.qty is not None
            else _shares_for(order.notional or Decimal(0), price)
        )
        if qty <= 0:
            self._finish(account, order, "rejected")
            return False
        return self.fill(account, order, qty, price)

    @staticmethod
    def _fill_price(order: Order, quote: Quote) -> Decimal | None:
        """The price the order would execute at now, or None if it must keep resting."""
        buying = order.side == "buy"
        touch = quote.ask if buying else quote.bid
        if order.type in {"stop", "stop_limit"} and not order.stop_triggered:
            crossed = touch >= order.stop_price if buying else touch <= order.stop_price  # type: ignore[operator]
            if not crossed:
                return None
            order.stop_triggered = True
        if order.type in {"market", "stop"}:
            return touch
        limit = order.limit_price
        assert limit is not None
        marketable = touch <= limit if buying else touch >= limit
        return touch if marketable else None

    def fill(self, account: Account, order: Order, qty: Decimal, price: Decimal) -> bool:
        """Execute ``qty`` of an open order at ``price``; moves cash and the position together."""
        value = (qty * price).quantize(CENT, ROUND_HALF_UP)
        if order.side == "buy" and value > account.cash + 2 * self.short_market_value(account):
            # A stop that triggered above what the account can pay: Alpaca rejects it.
            self._finish(account, order, "rejected")
            return False
        account.cash += value if order.side == "sell" else -value
        position_qty = self._move_position(account, order, qty, price)
        before = order.filled_qty
        order.filled_qty = before + qty
        total = (order.filled_avg_price or Decimal(0)) * before + price * qty
        order.filled_avg_price = (
            (total / order.filled_qty).quantize(Decimal("0.0001"), ROUND_HALF_UP).normalize()
        )
        done = order.qty is None or order.filled_qty >= order.qty
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

    @staticmethod
    def _move_position(account: Account, order: Order, qty: Decimal, price: Decimal) -> Decimal:
        symbol = order.asset.symbol
        delta = qty if order.side == "buy" else -qty
        position = account.positions.get(symbol)
        if position is None:
            account.positions[symbol] = Position(order.asset, delta, price)
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

    def _finish(self, account: Account, order: Order, status: str) -> None:
        """Move an open order to a final state and announce it (canceled/expired/rejected)."""
        moment = order.touch(status)
        if status == "canceled":
            order.canceled_at = moment
        elif status == "expired":
            order.expired_at = moment
        elif status == "rejected":
            order.failed_at = moment
        self._emit(TradeEvent(account, status, order, moment))

    def get_order(self, account: Account, order_id: str) -> Order:
        try:
            order = account.orders.get(uuid.UUID(order_id))
        except ValueError:
            order = None
        if order is None:
            raise not_found("order not found")
        return order

    def order_by_client_id(self, account: Account, client_order_id: str) -> Order:
        order_id = account.client_order_ids.get(client_order_id)
        if order_id is None:
            raise not_found("order not found")
        return account.orders[order_id]

    def cancel(self, account: Account, order_id: str) -> Order:
        order = self.get_order(account, order_id)
        if not order.is_open:
            raise BrokerError(422, CODE_NOT_CANCELABLE, f"order is {order.status}, not cancelable")
        self._finish(account, order, "canceled")
        return order

    def cancel_all(self, account: Account) -> list[Order]:
        orders = [o for o in account.orders.values() if o.is_open]
        for order in orders:
            self._finish(account, order, "canceled")
        return orders

    def expire(self, account: Account, order: Order) -> None:
        if order.is_open:
            self._finish(account, order, "expired")

    def reject(self, account: Account, order: Order) -> None:
        if order.is_open:
            self._finish(account, order, "rejected")

    def list_orders(self, account: Account, flt: OrderFilter) -> list[Order]:
        orders = [o for o in account.orders.values() if _matches(o, flt)]
        orders.sort(key=lambda o: o.seq, reverse=flt.direction == "desc")
        return orders[: flt.limit]

    # ----------------------------------------------------------------- positions

    def get_position(self, account: Account, symbol_or_id: str) -> Position:
        asset = find_asset(symbol_or_id)
        position = account.positions.get(asset.symbol) if asset else None
        if position is None:
            raise not_found("position does not exist")
        return position

    def close_position(
        self,
        account: Account,
        symbol_or_id: str,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> Order:
        """Place the market order that closes all or part of a position."""
        position = self.get_position(account, symbol_or_id)
        held = abs(position.qty)
        if percentage is not None:
            amount = (held * percentage / 100).quantize(QTY_PLACES, ROUND_DOWN)
            if held == held.to_integral_value():
                # Alpaca only sells a fraction when the position itself is fractional.
                amount = amount.to_integral_value(ROUND_DOWN)
        else:
            amount = qty if qty is not None else held
        if amount <= 0 or amount > held:
            raise insufficient_qty(amount, held)
        request = OrderRequest(
            asset=position.asset,
            side="sell" if position.qty > 0 else "buy",
            type="market",
            time_in_force="day",
            qty=amount,
            notional=None,
            limit_price=None,
            stop_price=None,
            client_order_id=None,
            extended_hours=False,
            position_intent=None,
        )
        return self.submit(account, request)

    def close_all(
        self, account: Account, cancel_orders: bool
    ) -> list[tuple[str, Order | BrokerError]]:
        if cancel_orders:
            self.cancel_all(account)
        results: list[tuple[str, Order | BrokerError]] = []
        for symbol in list(account.positions):
            try:
                results.append((symbol, self.close_position(account, symbol)))
            except BrokerError as error:
                results.append((symbol, error))
        return results

    # ----------------------------------------------------------------- market

    def sweep(self, symbols: Iterable[str] | None = None) -> None:
        """Give every resting order on ``symbols`` (None: all) a chance to execute."""
        wanted = None if symbols is None else set(symbols)
        for account in list(self.accounts.values()):
            for order in sorted(account.orders.values(), key=lambda o: o.seq):
                if order.is_open and (wanted is None or order.asset.symbol in wanted):
                    self._execute(account, order)

    def set_market_open(self, is_open: bool) -> None:
        self.clock.is_open = is_open
        if is_open:
            for account in self.accounts.values():
                for order in account.orders.values():
                    if order.status == "accepted":
                        order.touch("new")
            self.sweep()

    def find_order(self, order_id: str) -> tuple[Account, Order]:
        """Any account's order by id: only for the control endpoints, never for API keys."""
        for account in self.accounts.values():
            try:
                return account, self.get_order(account, order_id)
            except BrokerError:
                continue
        raise not_found("order not found")

    def _emit(self, event: TradeEvent) -> None:
        for listener in self._listeners:
            listener(event)


def _matches(order: Order, flt: OrderFilter) -> bool:
    if flt.status == "open" and not order.is_open:
        return False
    if flt.status == "closed" and order.is_open:
        return False
    if flt.after is not None and order.created_at <= flt.after:
        return False
    if flt.until is not None and order.created_at >= flt.until:
        return False
    if flt.symbols is not None and order.asset.symbol not in flt.symbols:
        return False
    return flt.side is None or order.side == flt.side


def _shares_for(notional: Decimal, price: Decimal) -> Decimal:
    return (notional / price).quantize(QTY_PLACES, ROUND_DOWN)


def insufficient_qty(requested: Decimal, available: Decimal) -> BrokerError:
    return forbidden(
        "insufficient qty available for order "
        f"(requested: {_plain(requested)}, available: {_plain(available)})"
    )


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))
