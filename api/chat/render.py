"""Readable replies from tool results, for the offline interpreter (CHAT-02).

Without a model, the reply is rendered from what the tools returned, never
from what the user typed: a proposal summary shows what will be sent, as the
service understood it. Values arrive as decimal strings (see `AccountActions`)
and are formatted with `Decimal`, never through floats.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from api.chat.contract import AccountContext
from api.chat.prompts import account_label
from api.chat.tools import ToolCall

DASH = "—"
MINUS = "\u2212"  # a true minus sign, as the app shows amounts (the hyphen reads as a dash)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(value: Any, *, signed: bool = False) -> str:
    """ "$1,901.20"; sub-dollar prices keep up to four places ("$0.1234")."""
    number = _decimal(value)
    if number is None:
        return DASH
    places = Decimal("0.0001") if 0 < abs(number) < 1 else Decimal("0.01")
    text = f"${abs(number.quantize(places)):,}"
    if number < 0:
        return MINUS + text
    return "+" + text if signed else text


def quantity(value: Any) -> str:
    """Shares without trailing zeros: "10", "0.5", MINUS + "3"."""
    number = _decimal(value)
    if number is None:
        return DASH
    sign = MINUS if number < 0 else ""
    if number == number.to_integral():
        return f"{sign}{abs(number).quantize(Decimal(1)):,}"
    return sign + format(abs(number).normalize(), "f")


def percent(value: Any) -> str:
    number = _decimal(value)
    if number is None:
        return ""
    sign = "+" if number > 0 else MINUS if number < 0 else ""
    return f" ({sign}{abs(number).quantize(Decimal('0.01'))}%)"


def _get(item: dict[str, Any], key: str) -> Any:
    """A field by its snake_case name, or camelCase as the GraphQL proposal JSON spells it."""
    if key in item:
        return item[key]
    head, *rest = key.split("_")
    return item.get(head + "".join(part.title() for part in rest))


def on_account(account: AccountContext) -> str:
    return f"{account_label(account)} ({account.environment})"


def order_terms(item: dict[str, Any]) -> str:
    """ "Buy 10 AAPL limit $250.00" from an order or proposal dict."""
    side = str(item.get("side") or "").capitalize() or "Order"
    notional = item.get("notional")
    size = f"{money(notional)} of" if notional else quantity(item.get("qty"))
    kind = str(item.get("type") or "market").lower()
    if kind == "market":
        price = "at market"
    elif kind == "limit":
        price = f"limit {money(_get(item, 'limit_price'))}"
    elif kind == "stop":
        price = f"stop {money(_get(item, 'stop_price'))}"
    else:
        stop, limit = money(_get(item, "stop_price")), money(_get(item, "limit_price"))
        price = f"stop {stop} limit {limit}"
    terms = f"{side} {size} {item.get('symbol', '?')} {price}"
    tif = str(_get(item, "time_in_force") or "day").lower()
    return terms if tif == "day" else f"{terms} ({tif.upper()})"


def render_call(call: ToolCall, account: AccountContext) -> str:
    """One tool call's result as a short message."""
    if not call.ok:
        error = call.result.get("error") or {}
        return f"Couldn't do that: {error.get('message', 'the request was refused')}."
    renderer = _RENDERERS.get(call.name)
    if renderer is None:
        return "Done."
    return renderer(call.result, account)


def _summary(result: dict[str, Any], account: AccountContext) -> str:
    lines = [
        f"{on_account(account)}",
        f"Cash {money(result.get('cash'))} · Equity {money(result.get('equity'))} · "
        f"Buying power {money(result.get('buying_power'))}",
    ]
    if result.get("day_change") is not None:
        change = money(result.get("day_change"), signed=True)
        lines.append(f"Today {change}{percent(result.get('day_change_percent'))}")
    return "\n".join(lines)


def _positions(result: dict[str, Any], account: AccountContext) -> str:
    positions = result.get("positions") or []
    if not positions:
        return f"No open positions on {on_account(account)}."
    lines = [f"Positions on {on_account(account)}:"]
    for p in positions:
        line = (
            f"• {p.get('symbol')}: {quantity(p.get('qty'))} @ {money(p.get('avg_entry_price'))} avg"
        )
        if p.get("current_price") is not None:
            line += f", now {money(p.get('current_price'))}"
        if p.get("unrealized_pl") is not None:
            line += f", P/L {money(p.get('unrealized_pl'), signed=True)}"
        lines.append(line)
    return "\n".join(lines)


def _orders(result: dict[str, Any], account: AccountContext) -> str:
    orders = result.get("orders") or []
    if not orders:
        return f"No orders to show on {on_account(account)}."
    lines = [f"Orders on {on_account(account)}:"]
    for o in orders:
        lines.append(f"• {order_terms(o)} — {o.get('status', '?')} · id {o.get('id', '?')}")
    return "\n".join(lines)


def _quote(result: dict[str, Any], account: AccountContext) -> str:
    parts = [
        f"{label} {money(result.get(key))}"
        for label, key in (("bid", "bid"), ("ask", "ask"), ("last", "last"))
        if result.get(key) is not None
    ]
    return f"{result.get('symbol', '?')}: {' · '.join(parts) or 'no quote available'}"


def _proposal(result: dict[str, Any], account: AccountContext) -> str:
    proposal = result.get("proposal") or {}
    summary = proposal.get("summary") or f"{order_terms(proposal)} on {on_account(account)}"
    order = result.get("order")
    if isinstance(order, dict) or proposal.get("status") == "CONFIRMED":
        order_id = (order or {}).get("id") or _get(proposal, "order_id") or "?"
        return f"Sent: {summary} (order {order_id})."
    cost = money(_get(proposal, "estimated_cost"))
    return f"Proposed: {summary}, est. {cost} — confirm to send."


def _canceled(result: dict[str, Any], account: AccountContext) -> str:
    canceled = result.get("canceled") or []
    if "proposal" in result:
        return _everything(result, account)
    if not canceled:
        return f"There were no open orders to cancel on {on_account(account)}."
    if len(canceled) == 1:
        return f"Canceled order {canceled[0]}."
    return f"Canceled {len(canceled)} open orders on {on_account(account)}."


def _everything(result: dict[str, Any], account: AccountContext) -> str:
    """A cancel-all or close-all proposal, or what it did when it was carried out at once."""
    proposal = result.get("proposal")
    if not isinstance(proposal, dict):
        return f"There are no open positions to close on {on_account(account)}."
    summary = proposal.get("summary") or "that"
    if proposal.get("status") != "CONFIRMED":
        return f"Proposed: {summary} — confirm to go ahead."
    done = result.get("canceled") or result.get("orders") or []
    verb = "cancelled" if proposal.get("kind") == "cancel_all" else "closing orders sent"
    text = f"Done: {summary} ({len(done)} {verb})."
    left = result.get("left") or []
    if left:
        text += " Not done: " + "; ".join(f"{i.get('target')}: {i.get('reason')}" for i in left)
    return text


_RENDERERS = {
    "account_summary": _summary,
    "positions": _positions,
    "orders": _orders,
    "quote": _quote,
    "propose_order": _proposal,
    "replace_order": _proposal,
    "close_position": _proposal,
    "cancel_order": _canceled,
    "close_all_positions": _everything,
}
