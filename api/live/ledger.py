"""What this process knows was already reported about an account's orders (RT-01, RT-03).

A trade-update stream loses whatever happens while it is disconnected, and a
process taking a stream over does not know what the previous owner sent. So
every process that watches an account notes each order event it sees on the
bus (its own and other processes'), and after every (re)connect the stream's
owner compares the broker's recent orders with these notes: an order updated
since watching began whose newest state was never reported gets an event now.

The notes begin when the watch began, or at the account's stored mark
(`api.live.marks`) when that is older: changes made while no server ran, or
while another process owned the stream and stopped, are reported too.

Comparison is by the broker's `updated_at`, which only moves forward: a
reconciliation that read an order just before a stream event about it can
never report the older state after the newer one. A margin before the watch
began covers clock skew between us and the broker; its cost is at most a
repeated event for an order, never a lost one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from api.broker.models import BrokerOrder

SKEW_MARGIN = timedelta(seconds=2)
MAX_NOTES = 2000


def event_for(status: str) -> str:
    """The trade-update event name Alpaca sends for an order that reached `status`."""
    return {"filled": "fill", "partially_filled": "partial_fill"}.get(status, status)


class OrderLedger:
    """Newest reported `updated_at` per order id since `since`; bounded."""

    __slots__ = ("_seen", "since")

    def __init__(self, since: datetime) -> None:
        self.since = since - SKEW_MARGIN
        self._seen: dict[str, datetime] = {}

    def note(self, order_id: str, updated_at: datetime) -> None:
        known = self._seen.get(order_id)
        if known is None or updated_at > known:
            self._seen[order_id] = updated_at
            if len(self._seen) > MAX_NOTES:
                self._prune()

    def reach_back(self, reported_through: datetime) -> None:
        """Start from the stored mark (`api.live.marks`) when it is older than the watch:
        what changed since, while no stream of this process listened, is reported too."""
        self.since = min(self.since, reported_through - SKEW_MARGIN)

    def forget(self, order_id: str, updated_at: datetime) -> None:
        """An event could not be published: let the next reconciliation report it."""
        if self._seen.get(order_id) == updated_at:
            del self._seen[order_id]

    def missed(self, orders: Iterable[BrokerOrder]) -> list[BrokerOrder]:
        """Orders changed since `since` whose current state was not reported, oldest first."""
        unreported = [
            o
            for o in orders
            if o.updated_at > self.since
            and (o.id not in self._seen or o.updated_at > self._seen[o.id])
        ]
        return sorted(unreported, key=lambda o: o.updated_at)

    def _prune(self) -> None:
        # Keep the newest half: only recent orders can still change unseen.
        keep = sorted(self._seen.items(), key=lambda item: item[1])[MAX_NOTES // 2 :]
        self._seen = dict(keep)
        self.since = max(self.since, keep[0][1])
