"""Broker and trading records as the chat's JSON: what the model reads and history keeps.

Tool results are shown to a language model and stored in `chat_messages.tool_calls`,
so they follow the rules in `api.chat.contract`: decimal strings, ISO 8601 times,
lower-case enum values, no credentials, no key hints, no internal ids beyond
order and proposal ids (the account is never named by id).

An order that the chat actually sent is stored in full (`order_json(full=True)`)
and read back with `order_from_json`, so chat history can show it as the same
`Order` the orders query returns, without asking the broker again.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from api.accounts import AccountRecord
from api.broker import BrokerOrder, BrokerPosition, BrokerQuote, Snapshot
from api.trading import Proposal
from api.trading.bulk import BulkOutcome

_HUNDRED = Decimal(100)
_BASIS = Decimal("0.01")
# The ORDER keys of `AccountActions.orders`, in the order a person reads them.
_COMPACT_ORDER_KEYS = (
    "id",
    "symbol",
    "side",
    "type",
    "qty",
    "notional",
    "filled_qty",
    "limit_price",
    "stop_price",
    "time_in_force",
    "status",
    "submitted_at",
)
_DECIMALS = {f.name for f in fields(BrokerOrder) if "Decimal" in str(f.type)}
_TIMES = {f.name for f in fields(BrokerOrder) if "datetime" in str(f.type)}


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def summary_json(account: AccountRecord, snapshot: Snapshot) -> dict[str, Any]:
    change = snapshot.equity - snapshot.last_equity
    result: dict[str, Any] = {
        "type": account.environment,
        "nickname": account.nickname,
        "currency": snapshot.currency,
        "cash": _text(snapshot.cash),
        "equity": _text(snapshot.equity),
        "buying_power": _text(snapshot.buying_power),
        "portfolio_value": _text(snapshot.portfolio_value),
        "day_change": _text(change),
        "status": snapshot.status,
    }
    if snapshot.last_equity:
        result["day_change_percent"] = _text(
            (change / snapshot.last_equity * _HUNDRED).quantize(_BASIS)
        )
    return result


def position_json(position: BrokerPosition) -> dict[str, Any]:
    return {
        "symbol": position.symbol,
        "qty": _text(position.qty),
        "side": position.side,
        "avg_entry_price": _text(position.avg_entry_price),
        "current_price": _text(position.current_price),
        "market_value": _text(position.market_value),
        "unrealized_pl": _text(position.unrealized_pl),
        "unrealized_plpc": _text(position.unrealized_plpc),
    }


def quote_json(quote: BrokerQuote) -> dict[str, Any]:
    return {
        "symbol": quote.symbol,
        "bid": _text(quote.bid_price),
        "ask": _text(quote.ask_price),
        "as_of": _text(quote.timestamp),
    }


def order_json(order: BrokerOrder, *, full: bool = False) -> dict[str, Any]:
    """The ORDER shape; `full` adds every field, for orders the chat sent (read back later)."""
    everything = {f.name: _text(getattr(order, f.name)) for f in fields(BrokerOrder)}
    if full:
        return everything
    return {k: everything[k] for k in _COMPACT_ORDER_KEYS if everything[k] is not None}


def order_from_json(data: dict[str, Any]) -> BrokerOrder:
    """An `Order` from `order_json(full=True)`; raises KeyError/ValueError on other shapes."""
    values: dict[str, Any] = {}
    for f in fields(BrokerOrder):
        raw = data.get(f.name)
        if raw is None:
            values[f.name] = None
        elif f.name in _DECIMALS:
            values[f.name] = Decimal(str(raw))
        elif f.name in _TIMES:
            values[f.name] = datetime.fromisoformat(str(raw))
        else:
            values[f.name] = raw
    for required in ("id", "client_order_id", "time_in_force", "status", "created_at"):
        if values[required] is None:
            raise KeyError(required)
    values["extended_hours"] = bool(values["extended_hours"])
    if values["updated_at"] is None:
        values["updated_at"] = values["created_at"]
    if values["submitted_at"] is None:
        values["submitted_at"] = values["created_at"]
    return BrokerOrder(**values)


def proposal_json(proposal: Proposal) -> dict[str, Any]:
    """The PROPOSAL shape of `AccountActions` (snake_case; no account id)."""
    intent = proposal.intent
    result: dict[str, Any] = {"id": str(proposal.id)}
    if intent is None:
        # cancel_all (order ids) or close_all (symbols)
        result.update(kind=proposal.kind.value, targets=list(proposal.targets))
    else:
        result.update(
            symbol=intent.symbol,
            side=intent.side.value,
            type=intent.type.value,
            time_in_force=intent.time_in_force.value,
        )
        for key in ("qty", "notional", "limit_price", "stop_price"):
            value = getattr(intent, key)
            if value is not None:
                result[key] = _text(value)
    result.update(
        summary=proposal.summary,
        estimated_cost=_text(proposal.estimated_cost),
        environment=proposal.environment,
        expires_at=_text(proposal.expires_at),
        status=proposal.status,
    )
    if proposal.broker_order_id:
        result["order_id"] = proposal.broker_order_id
    return result


def outcome_json(outcome: BrokerOrder | BulkOutcome) -> dict[str, Any]:
    """What confirming did: the order sent, or what a cancel-all or close-all did."""
    if isinstance(outcome, BrokerOrder):
        return {"order": order_json(outcome, full=True)}
    result: dict[str, Any] = {}
    if outcome.canceled:
        result["canceled"] = list(outcome.canceled)
    if outcome.orders:
        result["orders"] = [order_json(o) for o in outcome.orders]
    if outcome.left:
        result["left"] = [{"target": target, "reason": why} for target, why in outcome.left]
    return result
