"""The push dispatcher: account events in, one Web Push per event and device out.

Every server process hears every event on the bus
(docs/architecture.md#decision-3-events-travel-through-postgresql), so "every
process sends" would notify each device once per process. Instead each process
tries to claim (event, device) in `push_deliveries`, whose unique key lets one
insert win, and only the winner sends (PUSH-03). The event's id is what every
process derives alike from the same notification (`event_id`).

The claim and every read run in the owner's tenant scope, the owner named by
the event's publisher: row-level security shows only that owner's devices and
preferences, so another user's device can never be chosen (PUSH-03, ISO-03).

Sending: 404/410 deletes the device (the browser unsubscribed); 429, 5xx and
network failures retry after `RETRY_DELAYS` (longer if the service says
Retry-After, capped), then give up; every outcome is counted. A claim made by
a process that dies before sending is not retried elsewhere: a notification is
a courtesy, never a record, and the app shows the truth when opened.

Accounts keep their broker streams running while the app is closed: for every
account whose owner has a device, this process holds the stream supervisor's
interest (re-read every `watch_interval`, and at once when a device is added
here), so a fill an hour later still reaches the phone (PUSH-01).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any
from uuid import UUID

import orjson

from api.db import Database
from api.db.tables import BrokerAccount
from api.live.supervisor import StreamSupervisor
from api.metrics import count_push
from api.notify import store
from api.notify.messages import AccountLabel, Kind, Notifiable, compose, kind_of
from api.notify.webpush import Outcome, WebPushSender, topic_for
from api.realtime import AccountAlertEvent, EventBus, OrderEvent, WireEvent
from api.realtime.connections import CONNECTION_ERRORS
from api.realtime.events import encode
from api.waits import wait_at_most

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
RETRY_DELAYS = (1.0, 5.0, 30.0)
MAX_RETRY_AFTER = 120.0
MAX_CONCURRENT_SENDS = 32


def event_id(event: Notifiable) -> str:
    """The same for every report of one happening, from any process (the claim's key).

    An order's fill may be reported twice, by its stream and by the reconciliation
    after a reconnect, with different detail; what happened is the order, the
    event and how much of it had filled by then. Alerts differ by their time.
    """
    if isinstance(event, OrderEvent):
        order = event.order
        filled = "" if order.filled_qty is None else format(order.filled_qty.normalize(), "f")
        return f"order:{order.id}:{event.event}:{filled}"
    return hashlib.sha256(encode(event).encode()).hexdigest()


class PushDispatcher:
    """One per process, built by `Services` when push is configured."""

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        sender: WebPushSender,
        streams: StreamSupervisor,
        *,
        watch_interval: float = 30.0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self._database = database
        self._bus = bus
        self._sender = sender
        self._streams = streams
        self._watch_interval = watch_interval
        self._retry_delays = retry_delays
        self._queue: asyncio.Queue[Notifiable] = asyncio.Queue(QUEUE_LIMIT)
        self._sends = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
        self._tasks: set[asyncio.Task[None]] = set()
        self._watched: dict[tuple[UUID, UUID], AsyncExitStack] = {}
        self._watch_wanted = asyncio.Event()
        self.counts: Counter[str] = Counter()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._bus.watch_events(self._heard)
        for run, name in ((self._work, "push-dispatcher"), (self._watch, "push-watch")):
            task = asyncio.create_task(run(), name=name)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for stack in self._watched.values():
            await stack.aclose()
        self._watched.clear()
        await self._sender.close()

    def watch_now(self) -> None:
        """A device was added or removed here: re-read which accounts to keep live."""
        self._watch_wanted.set()

    # ------------------------------------------------------------------ events in

    def _heard(self, event: WireEvent) -> None:
        kind = kind_of(event)
        if kind is None or not isinstance(event, OrderEvent | AccountAlertEvent):
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._count("dropped")
            log.error("push: the dispatch queue is full; a %s notification is dropped", kind)

    async def _work(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._dispatch(event)
            except CONNECTION_ERRORS as exc:
                self._count("dropped")
                log.error("push: could not claim a notification (%s); dropped", exc)
            except Exception:
                self._count("dropped")
                log.exception("push: dispatching a notification failed")

    async def _dispatch(self, event: Notifiable) -> None:
        kind = kind_of(event)
        assert kind is not None
        key = event_id(event)
        async with self._database.tenant(event.owner_id) as conn:
            chosen = await store.preferences()
            if kind in chosen.muted:
                return
            label = await _account_label(event.account_id)
            if label is None:
                return  # removed meanwhile, or not this owner's: nothing to say
            devices = await store.devices()
            if not devices:
                return
            claimed = await store.claim(conn, event.owner_id, key, kind, [d.id for d in devices])
        if not claimed:
            return
        notification = compose(event, kind, label, hide_amounts=chosen.hide_amounts)
        payload = orjson.dumps(notification.payload())
        topic = topic_for(notification.tag)
        for device in devices:
            if device.id in claimed:
                self._spawn(self._deliver(event.owner_id, key, kind, device, payload, topic))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ sending

    async def _deliver(
        self,
        owner_id: UUID,
        key: str,
        kind: Kind,
        device: store.Device,
        payload: bytes,
        topic: str,
    ) -> None:
        attempts = 0
        async with self._sends:
            while True:
                attempts += 1
                result = await self._sender.send(device.target, payload, topic=topic)
                if result.outcome is not Outcome.RETRY or attempts > len(self._retry_delays):
                    break
                delay = self._retry_delays[attempts - 1]
                if result.retry_after is not None:
                    delay = min(max(delay, result.retry_after), MAX_RETRY_AFTER)
                await asyncio.sleep(delay)
        status = "FAILED" if result.outcome is Outcome.RETRY else result.outcome.value
        self._count(status.lower())
        if status != "SENT":
            log.warning(
                "push: a %s notification was not delivered (%s, HTTP %s, %d attempt(s))",
                kind,
                status,
                result.status,
                attempts,
            )
        async with self._database.tenant(owner_id) as conn:
            await store.finish(conn, key, device.id, status, attempts)
            if status == "GONE":
                await store.forget_device(device.id)

    def _count(self, outcome: str) -> None:
        self.counts[outcome] += 1
        count_push(outcome)

    # ------------------------------------------------------------------ live accounts

    async def _watch(self) -> None:
        while True:
            try:
                await self._rewatch()
            except CONNECTION_ERRORS as exc:
                log.warning("push: could not read which accounts to keep live (%s)", exc)
            await wait_at_most(self._watch_wanted, self._watch_interval)
            self._watch_wanted.clear()

    async def _rewatch(self) -> None:
        async with self._database.anonymous() as conn:
            rows = await conn.fetch("select owner_id, account_id from app.push_watch_list()")
        wanted = {(row["owner_id"], row["account_id"]) for row in rows}
        for pair in set(self._watched) - wanted:
            await self._watched.pop(pair).aclose()
        for owner_id, account_id in wanted - set(self._watched):
            stack = AsyncExitStack()
            await stack.enter_async_context(self._streams.interest(owner_id, account_id))
            self._watched[(owner_id, account_id)] = stack


async def _account_label(account_id: UUID) -> AccountLabel | None:
    rows = await BrokerAccount.select(BrokerAccount.nickname, BrokerAccount.environment).where(
        BrokerAccount.id == account_id
    )
    return AccountLabel(rows[0]["nickname"], rows[0]["environment"]) if rows else None
