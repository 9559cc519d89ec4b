"""What an account is worth and what it can spend, at the current prices.

Market values, equity and buying power feed the account JSON and the checks
that refuse an order; ``qty_available`` is what an open sell may still take.
Nothing here changes an account.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from api.sandbox.prices import CENT, PriceBook
from api.sandbox.records import SandboxAccount, SandboxOrder, SandboxPosition, shares_for


class Valuation:
    """Figures of any account, priced by one ``PriceBook``."""

    def __init__(self, prices: PriceBook) -> None:
        self.prices = prices

    def market_value(self, position: SandboxPosition) -> Decimal:
        return (position.qty * self.prices.price(position.asset.symbol)).quantize(
            CENT, ROUND_HALF_UP
        )

    def long_market_value(self, account: SandboxAccount) -> Decimal:
        return sum(
            (self.market_value(p) for p in account.positions.values() if p.qty > 0), Decimal(0)
        )

    def short_market_value(self, account: SandboxAccount) -> Decimal:
        return sum(
            (self.market_value(p) for p in account.positions.values() if p.qty < 0), Decimal(0)
        )

    def equity(self, account: SandboxAccount) -> Decimal:
        return account.cash + self.long_market_value(account) + self.short_market_value(account)

    def payable(self, account: SandboxAccount) -> Decimal:
        """What a buy can pay now: cash, less what open shorts tie up (a cash account)."""
        return account.cash + 2 * self.short_market_value(account)

    def buying_power(self, account: SandboxAccount) -> Decimal:
        """What a new buy may cost: ``payable`` less what open buys have reserved."""
        reserved = sum(
            (
                self._reserved(o)
                for o in account.orders.values()
                if o.is_open and o.terms.side == "buy"
            ),
            Decimal(0),
        )
        return max(Decimal(0), self.payable(account) - reserved).quantize(CENT, ROUND_DOWN)

    def _reserved(self, order: SandboxOrder) -> Decimal:
        terms = order.terms
        if terms.notional is not None:
            return terms.notional
        reference = terms.limit_price or terms.stop_price or self.prices.quote(order.symbol).ask
        return ((terms.qty or Decimal(0)) - order.filled_qty) * reference

    def qty_available(self, account: SandboxAccount, symbol: str) -> Decimal:
        """Shares of a long position not already promised to open sell orders."""
        position = account.positions.get(symbol)
        held = position.qty if position and position.qty > 0 else Decimal(0)
        promised = sum(
            (
                self._promised(o)
                for o in account.orders.values()
                if o.parent is None and o.symbol == symbol
            ),
            Decimal(0),
        )
        return max(Decimal(0), held - promised)

    def _promised(self, order: SandboxOrder) -> Decimal:
        """The shares an order and its exits may sell: exits that cancel each other
        promise the same shares once, and held exits (their entry unfilled) none yet."""
        sells = [o for o in (order, *order.legs) if o.is_open and o.status != "held"]
        sells = [o for o in sells if o.terms.side == "sell"]
        return max((self._open_qty(o) for o in sells), default=Decimal(0))

    def _open_qty(self, order: SandboxOrder) -> Decimal:
        terms = order.terms
        if terms.qty is not None:
            return terms.qty - order.filled_qty
        return shares_for(terms.notional or Decimal(0), self.prices.quote(order.symbol).bid)
