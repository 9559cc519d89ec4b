"""An in-test `AccountActions`: fixed data for one account, and a record of every call.

A stand-in for the accounts/trading services (which build the real object over
the broker gateway and the proposals table). It records each call with its
exact arguments (for `propose_order`, the fields the order intent sets), so
tests can prove what reached the bound account and that nothing like an
account id ever did (TRADE-01).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from api.chat.contract import AccountContext
from api.errors import NotFound
from api.trading.orders import OrderIntent, Replacement, Side, validate_intent

PRICES = {"AAPL": Decimal("190.12"), "TSLA": Decimal("250.00"), "NVDA": Decimal("120.50")}
NAMES = {"AAPL": "Apple Inc.", "TSLA": "Tesla, Inc.", "NVDA": "NVIDIA Corporation"}


@dataclass
class RecordingActions:
    """Bound to one account (the `account` it was made with); records calls in order."""

    account: AccountContext = field(default_factory=lambda: AccountContext("Main", "PAPER"))
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    open_orders: list[str] = field(default_factory=lambda: ["61e69015-8549-4bfd-b9c3-01e75843f47d"])

    async def summary(self) -> dict[str, Any]:
        self.calls.append(("summary", {}))
        return {
            "type": self.account.environment,
            "nickname": self.account.nickname,
            "currency": "USD",
            "cash": "10000.00",
            "equity": "12001.20",
            "buying_power": "20000.00",
            "day_change": "-12.34",
            "day_change_percent": "-0.10",
        }

    async def positions(self) -> dict[str, Any]:
        self.calls.append(("positions", {}))
        return {
            "positions": [
                {
                    "symbol": "AAPL",
                    "qty": "10",
                    "side": "long",
                    "avg_entry_price": "180.00",
                    "current_price": "190.12",
                    "market_value": "1901.20",
                    "unrealized_pl": "101.20",
                },
                {
                    "symbol": "TSLA",
                    "qty": "3",
                    "side": "long",
                    "avg_entry_price": "260.00",
                    "current_price": "250.00",
                    "market_value": "750.00",
                    "unrealized_pl": "-30.00",
                },
            ]
        }

    async def orders(self, status: str) -> dict[str, Any]:
        self.calls.append(("orders", {"status": status}))
        return {
            "orders": [
                {
                    "id": order_id,
                    "symbol": "AAPL",
                    "side": "buy",
                    "type": "limit",
                    "qty": "5",
                    "limit_price": "150.00",
                    "time_in_force": "gtc",
                    "status": "new",
                }
                for order_id in self.open_orders
            ]
        }

    async def find_symbol(self, query: str) -> dict[str, Any]:
        # Not recorded: a look-up reads public reference data, nothing of the account.
        wanted = query.upper()
        matches = [
            {"symbol": symbol, "name": name}
            for symbol, name in NAMES.items()
            if symbol == wanted or name.upper().startswith(wanted)
        ]
        return {"query": query, "matches": matches}

    async def quote(self, symbol: str) -> dict[str, Any]:
        self.calls.append(("quote", {"symbol": symbol}))
        price = PRICES.get(symbol, Decimal("100.00"))
        return {
            "symbol": symbol,
            "bid": str(price - Decimal("0.02")),
            "ask": str(price + Decimal("0.02")),
            "last": str(price),
        }

    async def propose_order(self, intent: OrderIntent) -> dict[str, Any]:
        order = intent.arguments()
        self.calls.append(("propose_order", order))
        price = order.get("limit_price") or PRICES.get(order["symbol"], Decimal("100.00"))
        cost = order["notional"] if order.get("notional") else order["qty"] * price
        side = order["side"].capitalize()
        size = f"${order['notional']} of" if order.get("notional") else f"{order['qty']}"
        where = "at market" if order["type"] == "market" else f"{order['type']} {price}"
        summary = (
            f"{side} {size} {order['symbol']} {where} on {self.account.nickname} "
            f"({self.account.environment})"
        )
        return {
            "proposal": {
                "id": "9b0c0c4e-0000-4000-8000-000000000001",
                "symbol": order["symbol"],
                "side": order["side"],
                "type": order["type"],
                "time_in_force": order["time_in_force"],
                "qty": order.get("qty"),
                "notional": order.get("notional"),
                "limit_price": order.get("limit_price"),
                "stop_price": order.get("stop_price"),
                "summary": summary,
                "estimated_cost": cost.quantize(Decimal("0.01")),
                "environment": self.account.environment,
                "expires_at": "2030-01-01T00:05:00Z",
                "status": "PENDING",
            }
        }

    async def replace_order(self, order_id: str, change: Replacement) -> dict[str, Any]:
        self.calls.append(("replace_order", {"order_id": order_id, **change.to_json()}))
        if order_id not in self.open_orders:
            raise NotFound("No such order on this account")
        limit = change.limit_price or Decimal("150.00")
        summary = (
            f"Buy 5 AAPL limit ${limit:,.2f} on {self.account.nickname} "
            f"({self.account.environment}), replacing order {order_id}"
        )
        return {
            "proposal": {
                "id": "9b0c0c4e-0000-4000-8000-000000000002",
                "kind": "replace",
                "symbol": "AAPL",
                "side": "buy",
                "type": "limit",
                "time_in_force": "gtc",
                "qty": "5",
                "limit_price": str(limit),
                "summary": summary,
                "estimated_cost": str(5 * limit),
                "environment": self.account.environment,
                "expires_at": "2030-01-01T00:05:00Z",
                "status": "PENDING",
            }
        }

    async def cancel_order(self, order_id: str | None, all: bool) -> dict[str, Any]:
        self.calls.append(("cancel_order", {"order_id": order_id, "all": all}))
        if all:
            canceled, self.open_orders = self.open_orders, []
            return {"canceled": canceled}
        if order_id in self.open_orders:
            self.open_orders.remove(order_id)
            return {"canceled": [order_id]}
        raise NotFound("No open order with that id on this account")

    async def close_position(
        self, symbol: str, percentage: Decimal | None = None
    ) -> dict[str, Any]:
        called: dict[str, Any] = {"symbol": symbol}
        if percentage is not None:
            called["percentage"] = percentage
        self.calls.append(("close_position", called))
        return await self._close(symbol)

    async def close_all(self) -> dict[str, Any]:
        self.calls.append(("close_all", {}))
        return {"positions": []}

    async def _close(self, symbol: str) -> dict[str, Any]:
        result = await self.propose_order(
            validate_intent(symbol=symbol, side=Side.SELL, qty=Decimal(10))
        )
        self.calls.pop()  # the proposal is part of close_position, not a second call
        return result
