"""What a notification says: the kind of an event, and its title, body, link and tag.

Which events become notifications (PUSH-01): fills and partial fills,
rejections, cancellations and expiries of orders, live proposals waiting for
confirmation, broker keys that stopped working, guard refusals and halts. Each
has a `Kind` the person can turn off.

What a payload may carry (PUSH-02): no secret, no key hint, no email, only the
account's nickname and environment, the symbol and side, and amounts (quantity,
price, notional) only when the person has not asked to hide them, since the
text shows on a lock screen. The `url` is a path of this server's own PWA,
which the service worker opens on a tap; a proposal's opens the proposal page
(pwa/js/components/proposal-page.js), which shows it and never confirms it.
`tag` makes a newer notification about the same order replace the older one
on the device (a partial fill, then the fill).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from api.realtime.events import (
    ALERT_BROKER_KEYS_REFUSED,
    ALERT_GUARD_REFUSED,
    ALERT_HALTED,
    ALERT_PROPOSAL_WAITING,
    AccountAlertEvent,
    OrderEvent,
    WireEvent,
)


class Kind(StrEnum):
    FILLS = "FILLS"
    REJECTIONS = "REJECTIONS"
    CANCELLATIONS = "CANCELLATIONS"
    EXPIRIES = "EXPIRIES"
    PROPOSALS = "PROPOSALS"
    BROKER_KEYS = "BROKER_KEYS"
    GUARD_REFUSALS = "GUARD_REFUSALS"
    HALTS = "HALTS"


_ORDER_KINDS = {
    "fill": Kind.FILLS,
    "partial_fill": Kind.FILLS,
    "rejected": Kind.REJECTIONS,
    "canceled": Kind.CANCELLATIONS,
    "expired": Kind.EXPIRIES,
}
_ALERT_KINDS = {
    ALERT_PROPOSAL_WAITING: Kind.PROPOSALS,
    ALERT_BROKER_KEYS_REFUSED: Kind.BROKER_KEYS,
    ALERT_GUARD_REFUSED: Kind.GUARD_REFUSALS,
    ALERT_HALTED: Kind.HALTS,
}
_ORDER_VERBS = {
    "fill": "Filled",
    "partial_fill": "Partly filled",
    "rejected": "Rejected",
    "canceled": "Canceled",
    "expired": "Expired",
}

Notifiable = OrderEvent | AccountAlertEvent


def kind_of(event: WireEvent) -> Kind | None:
    """The notification kind of `event`, or None when it is not worth a notification."""
    if isinstance(event, OrderEvent):
        return _ORDER_KINDS.get(event.event)
    if isinstance(event, AccountAlertEvent):
        return _ALERT_KINDS.get(event.alert)
    return None


@dataclass(frozen=True, slots=True)
class AccountLabel:
    """How the account is named on a lock screen: its nickname and environment only."""

    nickname: str
    environment: str

    def __str__(self) -> str:
        return f"{self.nickname} ({self.environment})"


@dataclass(frozen=True, slots=True)
class Notification:
    kind: Kind
    title: str
    body: str
    url: str
    tag: str

    def payload(self) -> dict[str, Any]:
        """The JSON the service worker shows (pwa/sw.js)."""
        return {
            "kind": self.kind.value,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "tag": self.tag,
        }


def _link(page: str, **params: UUID | str) -> str:
    return f"/#/{page}?" + urlencode({name: str(value) for name, value in params.items()})


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _order_text(event: OrderEvent, hide_amounts: bool) -> str:
    order = event.order
    side = (order.side or "").capitalize()
    what = f"{side} {order.symbol or 'order'}".strip()
    if hide_amounts:
        return what
    qty = event.qty or order.filled_qty or order.qty
    amount = f"{_number(qty)} " if qty is not None else ""
    price = event.price or order.filled_avg_price
    filled = price is not None and event.event in ("fill", "partial_fill")
    at = f" at {_number(price)}" if filled and price is not None else ""
    if qty is None and order.notional is not None:
        return f"{side} {_number(order.notional)} of {order.symbol}{at}"
    return f"{side} {amount}{order.symbol}{at}".strip()


def _alert_order(event: AccountAlertEvent, hide_amounts: bool) -> str:
    side = (event.side or "").capitalize()
    symbol = event.symbol or "an order"
    if hide_amounts or (event.qty is None and event.notional is None):
        return f"{side} {symbol}".strip()
    if event.qty is not None:
        return f"{side} {_number(event.qty)} {symbol}".strip()
    assert event.notional is not None
    return f"{side} {_number(event.notional)} of {symbol}".strip()


def compose(
    event: Notifiable, kind: Kind, account: AccountLabel, *, hide_amounts: bool
) -> Notification:
    """The notification for `event` on `account`, amounts left out when `hide_amounts`."""
    if isinstance(event, OrderEvent):
        verb = _ORDER_VERBS[event.event]
        return Notification(
            kind,
            title=f"{verb}: {_order_text(event, hide_amounts)}",
            body=str(account),
            url=_link("orders", account=event.account_id, order=event.order.id),
            tag=f"order-{event.order.id}",
        )
    if event.alert == ALERT_PROPOSAL_WAITING:
        return Notification(
            kind,
            title=f"Confirm? {_alert_order(event, hide_amounts)}",
            body=f"Waiting for your confirmation on {account}",
            url=_link("proposal", id=str(event.proposal_id)),
            tag=f"proposal-{event.proposal_id}",
        )
    if event.alert == ALERT_BROKER_KEYS_REFUSED:
        return Notification(
            kind,
            title="Broker keys stopped working",
            body=f"Alpaca refused the keys of {account}: replace them to see live updates",
            url=_link("accounts", account=event.account_id),
            tag=f"keys-{event.account_id}",
        )
    if event.alert == ALERT_GUARD_REFUSED:
        what = f" ({event.symbol})" if event.symbol else ""
        return Notification(
            kind,
            title=f"Order refused by your limits{what}",
            body=f"{account}: {event.guard or 'a limit'}",
            url=_link("orders", account=event.account_id),
            tag=f"guard-{event.account_id}",
        )
    return Notification(
        kind,
        title="Trading halted",
        body=f"{account} is halted: no new orders until you resume it",
        url=_link("accounts", account=event.account_id),
        tag=f"halt-{event.account_id}",
    )
