"""What the chat may do to an account: the contract between the chat engine and the services.

The engine never sees an account id, a credential or a database row. The
server resolves the user's selected account (checking ownership: TRADE-01),
builds an object implementing `AccountActions` that is bound to that one
account, and hands it to `ChatEngine.run_turn`. Every tool the model or the
command interpreter can call ends in one of these methods, so the set of
things the chat can do is exactly this Protocol.

Rules for implementations (the accounts/trading services write the real one):

* The object is bound to one account when it is built; no method takes or
  returns a way to reach another account.
* Results are JSON-serialisable dicts. Money, prices and quantities are
  decimal strings ("1901.20", "10", "0.5"), never floats. Timestamps are ISO
  8601 strings. Enum-like values are lower case, as Alpaca spells them
  ("buy", "limit", "day", "new").
* Results never contain credentials, key hints or internal ids beyond order
  and proposal ids: they are shown to a language model and stored in chat
  history.
* Expected failures raise `api.errors.AppError` subclasses (`BadUserInput`
  with a field, `NotFound`, or the broker's `BrokerError`). The tool
  registry turns them into a tool result ``{"error": {"code", "message"}}`` the
  model can explain; any other exception is a bug and propagates.
* `propose_order`, `replace_order`, `close_position`, `close_all` and cancelling all
  orders never act on a LIVE account: they store a proposal the user confirms with
  `confirmOrder` (TRADE-02). A paper account
  with chat auto-execute on may place it at once, and then says so in the
  result (proposal status "CONFIRMED", an "order").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from api.broker.models import Environment, OrderStatusFilter
from api.trading.orders import OrderIntent, Replacement


@dataclass(frozen=True)
class AccountContext:
    """What the chat may say about the bound account: its name and whether money is real."""

    nickname: str
    environment: Environment


@dataclass(frozen=True)
class HistoryMessage:
    """One earlier message of this user's chat on this account, oldest first."""

    role: Literal["user", "assistant"]
    text: str


class AccountActions(Protocol):
    """Service functions bound to ONE account that the server chose (TRADE-01).

    Return shapes (keys marked ? may be absent or null):

    ``summary()`` ->
        {"type": "PAPER"|"LIVE", "nickname": str, "currency": "USD",
         "cash": str, "equity": str, "buying_power": str, "portfolio_value"?: str,
         "day_change": str,            # equity - last_equity
         "day_change_percent"?: str,   # in percent: "0.52" is 0.52 %
         "status"?: str}

    ``positions()`` ->
        {"positions": [{"symbol": str, "qty": str, "side": "long"|"short",
                        "avg_entry_price": str, "current_price"?: str,
                        "market_value"?: str, "unrealized_pl"?: str,
                        "unrealized_plpc"?: str}]}

    ``orders(status)`` ->
        {"orders": [ORDER, ...]}  newest first, at most 50, where ORDER is
        {"id": str, "symbol": str, "side": "buy"|"sell", "type": str,
         "qty"?: str, "notional"?: str, "filled_qty"?: str,
         "limit_price"?: str, "stop_price"?: str, "time_in_force": str,
         "status": str, "submitted_at"?: str}

    ``quote(symbol)`` ->
        {"symbol": str, "bid"?: str, "ask"?: str, "last"?: str, "as_of"?: str}

    ``propose_order(...)`` and ``close_position(symbol)`` ->
        {"proposal": PROPOSAL, "order"?: ORDER}  where PROPOSAL mirrors the
        GraphQL OrderProposal:
        {"id": str, "symbol": str, "side": str, "type": str,
         "time_in_force": str, "qty"?: str, "notional"?: str,
         "limit_price"?: str, "stop_price"?: str,
         "summary": str,            # "Buy 10 AAPL at market on Main (PAPER)"
         "estimated_cost": str, "environment": "PAPER"|"LIVE",
         "expires_at": str, "status": "PENDING"|"CONFIRMED", "order_id"?: str}
        "order" is present only when the order was actually sent (paper auto-execute).

    ``replace_order(order_id, change)`` ->
        {"proposal": PROPOSAL, "order"?: ORDER}  as ``propose_order``: PROPOSAL is the
        order as it will be after the change (kind "replace"), "order" the new order
        when paper auto-execute sent it

    ``cancel_order(order_id, all)`` ->
        {"canceled": [order ids]}   one order cancelled at once (empty: nothing to cancel);
        with `all`, {"proposal": BULK, "canceled"?: [order ids], "left"?: [...]}, where
        BULK is {"id", "kind": "cancel_all", "targets": [order ids], "summary",
        "estimated_cost", "environment", "expires_at", "status"}: a proposal the user
        confirms, carried out at once only with paper auto-execute ("canceled", "left":
        [{"target", "reason"}] what was not cancelled)

    ``close_all()`` ->
        {"proposal": BULK (kind "close_all", targets: symbols), "orders"?: [ORDER],
         "left"?: [...]}, or {"positions": []} when nothing is held

    ``find_symbol(query)`` ->
        {"query": str, "matches": [{"symbol": str, "name"?: str}]}  best first, at most 5
    """

    async def summary(self) -> dict[str, Any]: ...

    async def positions(self) -> dict[str, Any]: ...

    async def orders(self, status: OrderStatusFilter) -> dict[str, Any]: ...

    async def quote(self, symbol: str) -> dict[str, Any]: ...

    async def propose_order(self, intent: OrderIntent) -> dict[str, Any]:
        """Store (never send, on LIVE) a proposal of `intent`.

        The registry made the intent with the order vocabulary's one validator
        (`validate_intent`, ORD-05), so its shape is the one placeOrder accepts.
        The implementation still runs the full placeOrder validation (TRADE-02:
        account active, symbol tradable, buying power or position) before it
        stores anything.
        """
        ...

    async def replace_order(self, order_id: str, change: Replacement) -> dict[str, Any]:
        """Propose replacing one open order of this account (ORD-02): `change` was made by
        the vocabulary's `validate_replacement`; the order as it will be is checked like a
        new one before the proposal is stored."""
        ...

    async def cancel_order(self, order_id: str | None, all: bool) -> dict[str, Any]:
        """Cancel one open order of this account by id, or propose cancelling every open
        order when `all`."""
        ...

    async def close_position(
        self, symbol: str, percentage: Decimal | None = None
    ) -> dict[str, Any]:
        """Propose closing this account's position in `symbol`, all or `percentage` of it
        (a market order, ORD-03)."""
        ...

    async def close_all(self) -> dict[str, Any]:
        """Propose closing every position of this account (market orders), as one proposal."""
        ...

    async def find_symbol(self, query: str) -> dict[str, Any]:
        """Symbols whose ticker or company name matches `query` ("apple" finds AAPL)."""
        ...
