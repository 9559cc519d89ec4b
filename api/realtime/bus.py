"""One process's end of the event bus: a LISTEN connection and in-process fan-out.

Events travel through PostgreSQL
(docs/architecture.md#decision-3-events-travel-through-postgresql): whichever
process publishes with `pg_notify`, every process listening on the channel
receives the event and hands it to its own subscribers (RT-02). Each process
creates one `EventBus` at start-up and passes it down; there is no module
state, so tests run several buses side by side as if they were several
servers.

Fan-out is built for 10,000 subscribers of one account: a notification is
decoded once, its routing key looked up in a dict, and the event put into
each matching subscriber's bounded queue without awaiting (see queues.py).
Nothing on that path is per-subscriber work beyond one `put_nowait`.

The listening connection is watched (termination callback plus a periodic
`select 1` for connections that die silently). When it is lost the bus
reconnects with jittered, capped backoff, LISTENs again, and only then gives
every subscriber a `ResyncEvent("reconnected")`: refetching after the LISTEN
is back covers every event that could have been missed in between. The moment
the connection is lost every subscriber gets `ResyncEvent("unavailable")`, so
a client shows its figures as not live instead of trusting a silent stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Protocol
from uuid import UUID

import asyncpg

from api.db import Database
from api.realtime.connections import CONNECTION_ERRORS, backoff_delay, dedicated_connection
from api.realtime.events import (
    CHANNEL,
    AccountRemovedEvent,
    Event,
    EventDecodeError,
    Key,
    ResyncEvent,
    SessionRevokedEvent,
    WireEvent,
    account_key,
    decode,
)
from api.realtime.queues import DEFAULT_LIMIT, SubscriberQueue

log = logging.getLogger(__name__)

RECONNECTED = ResyncEvent("reconnected")
UNAVAILABLE = ResyncEvent("unavailable")


class Subscription(SubscriberQueue):
    """A subscriber's stream of events for one routing key.

    Use as `async with bus.subscribe(key) as events: async for event in events:`.
    The iteration ends when the subscription is closed: by leaving the block,
    by `close()`, by the bus on `account_removed` / `session_revoked`, or when
    the bus stops. `close_reason` then says which.
    """

    __slots__ = ("_bus", "key", "session_id")

    def __init__(self, bus: EventBus, key: Key, session_id: UUID | None, limit: int) -> None:
        super().__init__(limit)
        self._bus = bus
        self.key = key
        self.session_id = session_id

    async def __aenter__(self) -> Subscription:
        self._bus._register(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close("unsubscribed")

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        event = await self.get()
        if event is None:
            raise StopAsyncIteration
        return event

    def close(self, reason: str = "closed") -> None:
        super().close(reason)
        self._bus._unregister(self)


class SessionWatcher(Protocol):
    """Something beyond subscriptions that must hear of revoked sessions (open WebSockets).

    Called synchronously on the listener's path: implementations only schedule work.
    """

    def session_revoked(self, session_id: UUID) -> None: ...

    def bus_reconnected(self) -> None:
        """Events may have been missed while the bus was not listening."""


class EventBus:
    """LISTEN on one channel and fan events out to this process's subscriptions."""

    def __init__(
        self,
        database: Database,
        *,
        channel: str = CHANNEL,
        queue_limit: int = DEFAULT_LIMIT,
        reconnect_base: float = 0.2,
        reconnect_cap: float = 15.0,
        health_interval: float = 10.0,
        health_timeout: float = 5.0,
    ) -> None:
        self._database = database
        self._channel = channel
        self._queue_limit = queue_limit
        self._reconnect_base = reconnect_base
        self._reconnect_cap = reconnect_cap
        self._health_interval = health_interval
        self._health_timeout = health_timeout
        self._by_key: dict[Key, set[Subscription]] = {}
        self._by_session: dict[UUID, set[Subscription]] = {}
        self._session_watchers: list[SessionWatcher] = []
        self._event_listeners: list[Callable[[WireEvent], None]] = []
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self.reconnects = 0
        self.undecodable = 0

    # -- subscribing ---------------------------------------------------------

    def subscribe(
        self, key: Key, *, session_id: UUID | None = None, limit: int | None = None
    ) -> Subscription:
        """A subscription for `key` (see `account_key`, `owner_key`), active once entered.

        Pass the session the subscriber authenticated with, so that revoking
        that session ends the subscription (AUTH-03).
        """
        if self._stopped:
            raise RuntimeError("the event bus has stopped")
        return Subscription(self, key, session_id, limit or self._queue_limit)

    def watch_events(self, listener: Callable[[WireEvent], None]) -> None:
        """Hand `listener` every event this process hears, whoever it is for (push, PUSH-01).

        Called synchronously on the listener's path: `listener` only queues work.
        """
        self._event_listeners.append(listener)

    def watch_sessions(self, watcher: SessionWatcher) -> None:
        """Tell `watcher` of every revoked session and of every reconnect (AUTH-03)."""
        self._session_watchers.append(watcher)

    def _register(self, sub: Subscription) -> None:
        if self._stopped:
            sub.close("shutdown")
            return
        if sub.closed:
            return
        self._by_key.setdefault(sub.key, set()).add(sub)
        if sub.session_id is not None:
            self._by_session.setdefault(sub.session_id, set()).add(sub)

    def _unregister(self, sub: Subscription) -> None:
        subs = self._by_key.get(sub.key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._by_key[sub.key]
        if sub.session_id is not None:
            subs = self._by_session.get(sub.session_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_session[sub.session_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(subs) for subs in self._by_key.values())

    # -- fan-out -------------------------------------------------------------

    def _on_notification(
        self, conn: asyncpg.Connection, pid: int, channel: str, payload: str
    ) -> None:
        try:
            event = decode(payload)
        except EventDecodeError as exc:
            # Possibly a newer server during a rolling deploy; the payload is not logged.
            self.undecodable += 1
            log.error(
                "event bus: dropped an unreadable %d-byte notification from backend %d: %s",
                len(payload),
                pid,
                exc,
            )
            return
        self._dispatch(event)

    def _dispatch(self, event: WireEvent) -> None:
        for listener in self._event_listeners:
            listener(event)
        if isinstance(event, SessionRevokedEvent):
            for sub in tuple(self._by_session.get(event.session_id, ())):
                sub.close("session_revoked")
            for watcher in self._session_watchers:
                watcher.session_revoked(event.session_id)
            return
        key = event.key
        subs = self._by_key.get(key) if key is not None else None
        if subs:
            # put_nowait never awaits and never touches these sets: iterating in place is safe.
            for sub in subs:
                sub.put_nowait(event)
        if isinstance(event, AccountRemovedEvent):
            removed = account_key(event.owner_id, event.account_id)
            for sub in tuple(self._by_key.get(removed, ())):
                sub.close("account_removed")

    def _broadcast(self, event: ResyncEvent) -> None:
        for subs in self._by_key.values():
            for sub in subs:
                sub.put_nowait(event)

    # -- the listening connection -----------------------------------------------

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed() and not self._lost.is_set()

    @property
    def listener_pid(self) -> int | None:
        """Server pid of the listening connection (for pg_stat_activity, and tests)."""
        return self._conn.get_server_pid() if self._conn is not None else None

    async def start(self) -> None:
        """LISTEN now (failing fast if the database is unreachable), then watch over it."""
        if self._task is not None or self._stopped:
            raise RuntimeError("an event bus starts once")
        self._conn = await self._listen()
        self._task = asyncio.create_task(self._supervise(), name="event-bus-listener")
        self._task.add_done_callback(self._supervisor_ended)

    def _supervisor_ended(self, task: asyncio.Task[None]) -> None:
        # Only stop() may end the supervisor; anything else would silently stop delivery.
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "event bus: the listener supervisor failed; events are no longer delivered",
                exc_info=task.exception(),
            )

    async def stop(self) -> None:
        """Stop listening and end every subscription (reason "shutdown")."""
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._discard_connection()
        for subs in list(self._by_key.values()):
            for sub in tuple(subs):
                sub.close("shutdown")

    async def _listen(self) -> asyncpg.Connection:
        conn = await dedicated_connection(self._database, "alpaca-chat-events")
        try:
            await conn.add_listener(self._channel, self._on_notification)
        except BaseException:
            conn.terminate()
            raise
        self._lost.clear()
        conn.add_termination_listener(self._on_terminated)
        return conn

    def _on_terminated(self, conn: asyncpg.Connection) -> None:
        if conn is self._conn:
            self._lost.set()

    async def _discard_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        try:
            await conn.close(timeout=self._health_timeout)
        except CONNECTION_ERRORS as exc:
            log.warning("event bus: closing the listening connection failed (%s); dropped", exc)
            conn.terminate()

    async def _supervise(self) -> None:
        while True:
            await self._watch()
            self._broadcast(UNAVAILABLE)
            await self._discard_connection()
            await self._reconnect()
            self.reconnects += 1
            log.info(
                "event bus: listening again (backend %s); %d subscribers told to resync",
                self.listener_pid,
                self.subscriber_count,
            )
            self._broadcast(RECONNECTED)
            for watcher in self._session_watchers:
                watcher.bus_reconnected()

    async def _watch(self) -> None:
        """Return when the listening connection is lost or stops answering."""
        while True:
            try:
                async with asyncio.timeout(self._health_interval):
                    await self._lost.wait()
                log.warning("event bus: the listening connection was closed; reconnecting")
                return
            except TimeoutError:
                pass
            conn = self._conn
            if conn is None:
                return
            try:
                await conn.fetchval("select 1", timeout=self._health_timeout)
            except CONNECTION_ERRORS as exc:
                log.warning("event bus: the listening connection stopped answering (%s)", exc)
                return

    async def _reconnect(self) -> None:
        attempt = 0
        while True:
            delay = backoff_delay(attempt, base=self._reconnect_base, cap=self._reconnect_cap)
            await asyncio.sleep(delay)
            try:
                self._conn = await self._listen()
                return
            except CONNECTION_ERRORS as exc:
                attempt += 1
                log.warning(
                    "event bus: reconnect attempt %d failed (%s); retrying with backoff",
                    attempt,
                    exc,
                )
