"""The sandbox's brokerage engine: its parts put together, and what spans every account.

``Broker`` composes the account registry (keys), the valuation (figures), the
order desk (the order life cycle) and the position desk (closing), all on one
price book and one market clock. Routes reach the part they need through it;
only moving the market (a price change, the opening bell) and the control
endpoints' look-up by order id touch every account, and those live here.
"""

from __future__ import annotations

from collections.abc import Iterable

from api.sandbox.accounts import AccountRegistry
from api.sandbox.clock import MarketClock
from api.sandbox.errors import SandboxError, not_found
from api.sandbox.orders import OrderDesk
from api.sandbox.positions import PositionDesk
from api.sandbox.prices import PriceBook
from api.sandbox.records import SandboxAccount, SandboxOrder
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
