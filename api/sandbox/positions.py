"""Positions as the API serves them: look one up, close all or part of one, close them all.

Closing places a market order through the order desk like any other order,
except that a holder's ``suspend_trade`` does not stop it (RISK-04 in
docs/requirements.md: a halted account can still close positions).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from api.sandbox.assets import find_asset
from api.sandbox.errors import SandboxError, not_found
from api.sandbox.order_checks import insufficient_qty
from api.sandbox.orders import OrderDesk
from api.sandbox.records import QTY_PLACES, SandboxAccount, SandboxOrder, SandboxPosition
from api.sandbox.validation import OrderSubmission


class PositionDesk:
    """Position look-ups and the orders that close positions."""

    def __init__(self, orders: OrderDesk) -> None:
        self._orders = orders

    @staticmethod
    def get(account: SandboxAccount, symbol_or_id: str) -> SandboxPosition:
        asset = find_asset(symbol_or_id)
        position = account.positions.get(asset.symbol) if asset else None
        if position is None:
            raise not_found("position does not exist")
        return position

    def close(
        self,
        account: SandboxAccount,
        symbol_or_id: str,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> SandboxOrder:
        """Place the market order that closes all or part of a position."""
        position = self.get(account, symbol_or_id)
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
        request = OrderSubmission(
            asset=position.asset,
            side="sell" if position.qty > 0 else "buy",
            type="market",
            time_in_force="day",
            qty=amount,
        )
        return self._orders.submit(account, request, closes_position=True)

    def close_all(
        self, account: SandboxAccount, cancel_orders: bool
    ) -> list[tuple[str, SandboxOrder | SandboxError]]:
        if cancel_orders:
            self._orders.cancel_all(account)
        results: list[tuple[str, SandboxOrder | SandboxError]] = []
        for symbol in list(account.positions):
            try:
                results.append((symbol, self.close(account, symbol)))
            except SandboxError as error:
                results.append((symbol, error))
        return results
