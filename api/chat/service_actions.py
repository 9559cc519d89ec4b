"""The real `AccountActions`: the chat's tools over the account and trading services.

One `ServiceActions` object is built per chat turn, bound to the account the
server resolved for the signed-in user (TRADE-01): the user id and the account
(read once, for the whole turn) are fixed at construction and no method takes
either. Every call goes through the same services the GraphQL API uses, so
the chat reads what the app shows and validates orders exactly as
`placeOrder` does (TRADE-02): `propose_order` takes the `OrderIntent` the
tool registry validated, `close_position` makes one with the same validator
(ORD-05), and both call `TradingService.propose`, which runs `check_order`
before anything is stored.

Orders become proposals, and so do "cancel all" and "close all"
(api/trading/bulk.py): they change many orders at once. Only a PAPER account
whose owner turned `chat_auto_execute` on has its proposals confirmed at once
(the environment is checked here too, not only where the flag is set).
Cancelling one order by its id is done at once. Whatever a turn proposed
or sent is recorded (`made`, `proposal_ids`), so the chat service can link it
to the reply, even when the model fails half-way through the turn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import UUID

from api.accounts import Account, AccountService
from api.broker import BrokerGateway
from api.chat.contract import OrderStatusFilter
from api.chat.shapes import (
    order_json,
    outcome_json,
    position_json,
    proposal_json,
    quote_json,
    summary_json,
)
from api.errors import AppError, BadUserInput
from api.markets import MarketService
from api.trading import Proposal, TradingService
from api.trading.orders import (
    OrderIntent,
    OrderType,
    Replacement,
    Side,
    default_time_in_force,
    parse_symbol,
    same_symbol,
    validate_intent,
)

log = logging.getLogger(__name__)

# The `find_symbol` tool answers at most this many (the AccountActions contract).
SYMBOLS_FOUND = 5
# The `orders` tool shows at most this many (the AccountActions contract).
ORDERS_SHOWN = 50


_QTY_STEP = Decimal("0.000000001")


@dataclass(frozen=True)
class MadeCall:
    """A proposing call of this turn and its result, as a stored tool call."""

    name: str
    arguments: dict[str, Any]
    result: dict[str, Any]


@dataclass
class ServiceActions:
    """`AccountActions` bound to ONE account of ONE user, chosen by the server (TRADE-01)."""

    user_id: UUID
    account: Account
    accounts: AccountService
    trading: TradingService
    gateway: BrokerGateway
    markets: MarketService
    made: list[MadeCall] = field(default_factory=list)
    proposal_ids: list[UUID] = field(default_factory=list)

    @property
    def auto_execute(self) -> bool:
        # Live orders always wait for confirmOrder, whatever the stored flag says.
        return self.account.environment == "PAPER" and self.account.record.chat_auto_execute

    async def summary(self) -> dict[str, Any]:
        snapshot = await self.accounts.snapshot(self.account)
        return summary_json(self.account.record, snapshot)

    async def positions(self) -> dict[str, Any]:
        found = await self.trading.positions(self.account)
        return {"positions": [position_json(p) for p in found]}

    async def orders(self, status: OrderStatusFilter) -> dict[str, Any]:
        found = await self.trading.orders(self.account, status, ORDERS_SHOWN)
        return {"orders": [order_json(o) for o in found]}

    async def quote(self, symbol: str) -> dict[str, Any]:
        return quote_json(await self.gateway.latest_quote(self.account.broker, symbol))

    async def find_symbol(self, query: str) -> dict[str, Any]:
        found = await self.markets.search(self.account, query, SYMBOLS_FOUND)
        return {"query": query, "matches": [{"symbol": a.symbol, "name": a.name} for a in found]}

    async def propose_order(self, intent: OrderIntent) -> dict[str, Any]:
        return await self._propose("propose_order", intent.to_json(), intent)

    async def replace_order(self, order_id: str, change: Replacement) -> dict[str, Any]:
        """The replacement as a proposal, like any chat order (ORD-02, TRADE-02)."""
        proposal = await self.trading.propose_replacement(self.account, order_id, change)
        return await self._offer(
            "replace_order", {"order_id": order_id, **change.to_json()}, proposal
        )

    async def cancel_order(self, order_id: str | None, all: bool) -> dict[str, Any]:
        if all:
            everything = await self.trading.bulk.propose_cancel_all(self.account)
            if everything is None:
                return {"canceled": []}
            return await self._offer("cancel_order", {"all": True}, everything)
        if not order_id:
            raise BadUserInput("Say which order to cancel, or cancel all", field="order_id")
        await self.trading.cancel_order(self.account, order_id)
        return {"canceled": [order_id]}

    async def close_position(
        self, symbol: str, percentage: Decimal | None = None
    ) -> dict[str, Any]:
        """A market order for the position or `percentage` of it, proposed like any other
        order (TRADE-02, ORD-03); a whole-share position closes in whole shares."""
        symbol = parse_symbol(symbol)
        held = [
            p
            for p in await self.trading.positions(self.account)
            if same_symbol(p.symbol, symbol) and p.qty != 0
        ]
        if not held:
            raise BadUserInput(f"There is no open position in {symbol}", field="symbol")
        position = held[0]
        qty = abs(position.qty)
        arguments: dict[str, Any] = {"symbol": symbol}
        if percentage is not None:
            if percentage > 100:
                raise BadUserInput("Close at most 100% of a position", field="percentage")
            part = qty * percentage / 100
            whole = qty == qty.to_integral_value()
            step = Decimal(1) if whole else _QTY_STEP
            qty = part.quantize(step, ROUND_DOWN)
            if qty <= 0:
                raise BadUserInput(
                    "That part of the position is less than one share", field="percentage"
                )
            arguments["percentage"] = percentage
        intent = validate_intent(
            symbol=symbol,
            side=Side.BUY if position.side == "short" or position.qty < 0 else Side.SELL,
            type=OrderType.MARKET,
            qty=qty,
            time_in_force=default_time_in_force(symbol),
        )
        return await self._propose("close_position", arguments, intent)

    async def close_all(self) -> dict[str, Any]:
        """Every position closed at market, as one proposal (api/trading/bulk.py)."""
        everything = await self.trading.bulk.propose_close_all(self.account)
        if everything is None:
            return {"positions": []}
        return await self._offer("close_all_positions", {}, everything)

    async def _propose(
        self, name: str, arguments: dict[str, Any], intent: OrderIntent
    ) -> dict[str, Any]:
        proposal = await self.trading.propose(self.account, intent)
        return await self._offer(name, arguments, proposal)

    async def _offer(
        self, name: str, arguments: dict[str, Any], proposal: Proposal
    ) -> dict[str, Any]:
        self.proposal_ids.append(proposal.id)
        result: dict[str, Any] = {}
        if self.auto_execute:
            try:
                done = await self.trading.confirm(self.user_id, proposal.id)
            except AppError as error:
                # The proposal stays PENDING: the person can still confirm it by hand.
                log.info("chat auto-execute refused: %s", error.code)
                result["auto_execute_failed"] = {"code": str(error.code), "message": error.message}
            else:
                result.update(outcome_json(done))
            proposal = await self.trading.proposal(self.user_id, proposal.id)
        result = {"proposal": proposal_json(proposal), **result}
        self.made.append(MadeCall(name, arguments, result))
        return result
