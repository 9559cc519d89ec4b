"""The sandbox's brokerage engine: its parts put together, and what spans every account.

``Broker`` composes the account registry (keys), the valuation (figures), the
order desk (the order life cycle), the position desk (closing) and the equity
recorder (history), all on one price book and one market clock. Routes reach
the part they need through it; only moving the market (a price change, the
opening bell, the minute's equity samples) and the control endpoints' look-up
by order id touch every account, and those live here.
"""

from __future__ import annotations

from collections.abc import Iterable

from api.sandbox.accounts import AccountRegistry
from api.sandbox.activities import pay_ex_dividends, record_fill
from api.sandbox.clock import MarketClock, now
from api.sandbox.errors import SandboxError, not_found
from api.sandbox.history import EquityRecorder
from api.sandbox.orders import OrderDesk
from api.sandbox.positions import PositionDesk
from api.sandbox.prices import PriceBook
from api.sandbox.records import SandboxAccount, SandboxOrder, TradeEvent
from api.sandbox.valuation import Valuation


class Broker:
    """All accounts of one sandbox process. Accounts never see each other's data."""

    def __init__(self, prices: PriceBook, clock: MarketClock) -> None:
        self.prices = prices
        self.clock = clock
        self.valuation = Valuation(prices)
        self.accounts = AccountRegistry(self.valuation)
        self.orders = OrderDesk(prices, clock, self.valuation)
        self.positions = PositionDesk(self.orders)
        self.history = EquityRecorder(self.valuation)
        self.orders.subscribe(self._on_trade)

    def _on_trade(self, event: TradeEvent) -> None:
        record_fill(event)
        if event.execution_id is not None:
            self.history.sample(event.account, force=True)

    def sample_equity(self) -> None:
        """From the ticker: each account's equity once a minute (HIST-01); when the UTC
        date has changed since the last sample, the day's ex-dividends first (HIST-02)."""
        today = now().date()
        for account in list(self.accounts.by_number.values()):
            samples = account.equity_samples
            if samples and samples[-1].at.date() < today:
                pay_ex_dividends(account, today)
            self.history.sample(account)

    def sweep(self, symbols: Iterable[str] | None = None) -> None:
        """Give every resting order on ``symbols`` (None: all) a chance to execute."""
        wanted = None if symbols is None else set(symbols)
        for account in list(self.accounts.by_number.values()):
            self.orders.sweep(account, wanted)

    def set_market_open(self, is_open: bool) -> None:
        self.clock.is_open = is_open
        if is_open:
            for account in self.accounts.by_number.values():
                self.orders.wake(account)
            self.sweep()

    def find_order(self, order_id: str) -> tuple[SandboxAccount, SandboxOrder]:
        """Any account's order by id: only for the control endpoints, never for API keys."""
        for account in self.accounts.by_number.values():
            try:
                return account, self.orders.get(account, order_id)
            except SandboxError:
                continue
        raise not_found("order not found")
