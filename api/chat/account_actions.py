"""The real `AccountActions`: the chat's tools over the account and trading services.

One `ServiceActions` object is built per chat turn, bound to the account the
server resolved for the signed-in user (TRADE-01): the user id and the account
record are fixed at construction and no method takes either. Every call goes
through the same services the GraphQL API uses, so the chat reads what the
app shows and validates orders exactly as `placeOrder` does (TRADE-02):
`propose_order` and `close_position` build an `OrderTicket` and call
`TradingService.propose`, which runs `check_order` before anything is stored.

Orders become proposals. Only a PAPER account whose owner turned
`chat_auto_execute` on has its proposals confirmed at once (the environment is
checked here too, not only where the flag is set). Whatever a turn proposed
or sent is recorded (`made`, `proposal_ids`), so the chat service can link it
to the reply, even when the model fails half-way through the turn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.accounts import AccountRecord, AccountService
from api.broker import BrokerGateway
from api.chat.actions import OrderStatusFilter, OrderType, Side, TimeInForce
from api.chat.shapes import (
    order_json,
    position_json,
    proposal_json,
    quote_json,
    summary_json,
)
from api.errors import AppError, BadUserInput
from api.trading import OrderTicket, TradingService

log = logging.getLogger(__name__)

# The `orders` tool shows at most this many (the AccountActions contract).
ORDERS_SHOWN = 50


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
    account: AccountRecord
    accounts: AccountService
    trading: TradingService
    gateway: BrokerGateway
    made: list[MadeCall] = field(default_factory=list)
    proposal_ids: list[UUID] = field(default_factory=list)

    @property
    def auto_execute(self) -> bool:
        # Live orders always wait for confirmOrder, whatever the stored flag says.
        return self.account.environment == "PAPER" and self.account.chat_auto_execute

    async def summary(self) -> dict[str, Any]:
        snapshot = await self.accounts.snapshot(self.user_id, self.account.id)
        return summary_json(self.account, snapshot)

    async def positions(self) -> dict[str, Any]:
        found = await self.trading.positions(self.user_id, self.account.id)
        return {"positions": [position_json(p) for p in found]}

    async def orders(self, status: OrderStatusFilter) -> dict[str, Any]:
        found = await self.trading.orders(self.user_id, self.account.id, status, ORDERS_SHOWN)
        return {"orders": [order_json(o) for o in found]}

    async def quote(self, symbol: str) -> dict[str, Any]:
        ref = await self.accounts.ref(self.user_id, self.account.id)
        return quote_json(await self.gateway.latest_quote(ref, symbol))

    async def propose_order(
        self,
        *,
        symbol: str,
        side: Side,
        type: OrderType,
        time_in_force: TimeInForce,
        qty: Decimal | None = None,
        notional: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> dict[str, Any]:
        ticket = OrderTicket.parse(
            symbol=symbol,
            side=side,
            type=type,
            qty=qty,
            notional=notional,
            limit_price=limit_price,
            stop_price=stop_price,
            time_in_force=time_in_force,
        )
        arguments = {
            "symbol": symbol,
            "side": side,
            "type": type,
            "time_in_force": time_in_force,
            **{
                k: format(v, "f")
                for k, v in {
                    "qty": qty,
                    "notional": notional,
                    "limit_price": limit_price,
                    "stop_price": stop_price,
                }.items()
                if v is not None
            },
        }
        return await self._propose("propose_order", arguments, ticket)

    async def cancel_order(self, order_id: str | None, all: bool) -> dict[str, Any]:
        if all:
            canceled = await self.trading.cancel_all(self.user_id, self.account)
            return {"canceled": canceled}
        if not order_id:
            raise BadUserInput("Say which order to cancel, or cancel all", field="order_id")
        await self.trading.cancel_order(self.user_id, self.account.id, order_id)
        return {"canceled": [order_id]}

    async def close_position(self, symbol: str) -> dict[str, Any]:
        """A market order for the whole position, proposed like any other order (TRADE-02)."""
        symbol = symbol.strip().upper()
        held = [
            p
            for p in await self.trading.positions(self.user_id, self.account.id)
            if p.symbol == symbol and p.qty != 0
        ]
        if not held:
            raise BadUserInput(f"There is no open position in {symbol}", field="symbol")
        position = held[0]
        ticket = OrderTicket.parse(
            symbol=symbol,
            side="buy" if position.side == "short" or position.qty < 0 else "sell",
            type="market",
            qty=abs(position.qty),
            time_in_force="day",
        )
        return await self._propose("close_position", {"symbol": symbol}, ticket)

    async def _propose(
        self, name: str, arguments: dict[str, Any], ticket: OrderTicket
    ) -> dict[str, Any]:
        proposal = await self.trading.propose(self.user_id, self.account, ticket)
        self.proposal_ids.append(proposal.id)
        result: dict[str, Any] = {}
        if self.auto_execute:
            try:
                order = await self.trading.confirm(self.user_id, proposal.id)
            except AppError as error:
                # The proposal stays PENDING: the person can still confirm it by hand.
                log.info("chat auto-execute refused: %s", error.code)
                result["auto_execute_failed"] = {"code": str(error.code), "message": error.message}
            else:
                result["order"] = order_json(order, full=True)
            proposal = await self.trading.proposal(self.user_id, proposal.id)
        result = {"proposal": proposal_json(proposal), **result}
        self.made.append(MadeCall(name, arguments, result))
        return result
