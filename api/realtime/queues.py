"""The bounded queue between the bus and one subscriber.

One slow WebSocket must never slow the others or make the server's memory
grow: the bus puts into every subscriber's queue without awaiting, and each
queue enforces its own bound with a policy that loses nothing a client cannot
recover:

* state events (snapshots, position changes, active-account changes, resyncs)
  coalesce: a newer one replaces the pending one, so an idle or slow
  subscriber holds at most one of each kind;
* when the queue is full, the pending snapshot is dropped first (another one
  follows within seconds);
* order events are never dropped silently: if the queue is full of them, it
  is cleared and holds a single `ResyncEvent("overflow")`, telling the client
  to refetch.

A resync supersedes everything before it (the client refetches all state), so
putting one clears the queue.

Memory matters at 10,000 subscribers per process: the queue is a plain list
(56 bytes when empty, where a deque preallocates a ~600-byte block) whose
front pops are a tiny memmove at this bound, plus a Future that exists only
while the consumer waits. Events themselves are shared between all queues.
"""

from __future__ import annotations

import asyncio

from api.realtime.events import Event, ResyncEvent

DEFAULT_LIMIT = 128
OVERFLOW = ResyncEvent("overflow")


class SubscriberQueue:
    """Bounded, coalescing, single-consumer queue; `put_nowait` never blocks or awaits."""

    __slots__ = ("_items", "_limit", "_waiter", "close_reason", "dropped", "overflows")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 2:
            raise ValueError("a subscriber queue needs room for a resync and one event")
        self._items: list[Event] = []
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None
        self.close_reason: str | None = None
        self.dropped = 0  # snapshots dropped because the queue was full
        self.overflows = 0  # times the queue was cleared for a resync

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    def __len__(self) -> int:
        return len(self._items)

    def put_nowait(self, event: Event) -> None:
        """Enqueue by the policy above and wake the consumer; a closed queue ignores it."""
        if self.close_reason is not None:
            return
        items = self._items
        if items:
            if isinstance(event, ResyncEvent):
                items.clear()
            elif event.coalesce:
                kind = type(event)
                for index, pending in enumerate(items):
                    if type(pending) is kind:
                        del items[index]
                        break
            if len(items) >= self._limit:
                self._make_room(items)
        items.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _make_room(self, items: list[Event]) -> None:
        for index, pending in enumerate(items):
            if pending.droppable:
                del items[index]
                self.dropped += 1
                return
        # Only events that must not be lost are waiting: the client refetches instead.
        items.clear()
        items.append(OVERFLOW)
        self.overflows += 1

    async def get(self) -> Event | None:
        """The next event, waiting if there is none; None once the queue is closed."""
        while not self._items:
            if self.close_reason is not None:
                return None
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def close(self, reason: str = "closed") -> None:
        """End the stream now: pending events are discarded, a waiting `get` returns None.

        Discarding matters for revocation: a signed-out session must not
        receive even the events that were already queued for it.
        """
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self._items.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
