"""The stream supervisor: one trade-update stream per watched account, deployment-wide (RT-03).

docs/architecture.md#decision-3-events-travel-through-postgresql: the broker's trade
updates and periodic snapshots go
to `pg_notify`, and a PostgreSQL advisory lock gives each account's stream
exactly one owner across server processes. Alpaca allows one trade-update
connection per account, so this is correctness, not thrift.

How it runs, per account, in every process that has subscribers for it
(`interest()` counts them; the first starts a watch, the last ends it):

* the watch listens to the account's events on the bus, noting reported
  orders (`OrderLedger`) and the latest snapshot, whoever published them;
* it competes for the account's lock (`StreamLocks`, polled about every
  second). The winner runs `KeylessTradingStream` in this event loop, forwards
  each trade update as an `OrderEvent` (and, for fills and cancels, a
  `PositionsChangedEvent`), catches up after every (re)connect
  (api/live/catch_up.py: from the account's stored mark, `api.live.marks`,
  when it owns the stream for the first time: what changed while no server
  ran is reported too), and refreshes the snapshot on fills at once and
  otherwise every `snapshot_interval`, publishing it only when it changed;
* when the last local subscriber leaves (after a short linger, so a client
  that resubscribes at once keeps the stream), or the lock's connection is
  lost, the stream stops and the lock is released; a process that dies loses
  its lock with its database session, and another watching process takes
  over within a couple of seconds.

Broker budget: Alpaca allows 200 requests a minute per key. An owned account
costs one snapshot per interval (12 a minute at the default 5 s), one more per
burst of fills (spaced by `MIN_REFRESH_SPACING`), and one orders read per
reconnect (up to `catch_up.RECONCILE_PAGES` after a long gap). A new subscriber's first
snapshot is shared: one fetch serves every subscriber of the account within an
interval.

Keys (CRED-02): the stream asks for them on every (re)connect; they are
decrypted right then from the ciphertext read (through `AccountService`, in
the owner's tenant scope) and dropped once sent. Nothing here keeps plaintext,
and each unit of work (a refresh, a reconnect, a reconciliation) reads the
account afresh, so replaced keys and a removed account are seen at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg

from api.accounts import Account, AccountService
from api.broker.errors import KEYS_REFUSED, BrokerError, ErrorCode
from api.broker.gateway import BrokerGateway
from api.config import Settings
from api.db import Database
from api.live.catch_up import Reconciler
from api.live.ledger import OrderLedger
from api.live.watch import AccountWatch, publish_orders, same_balances
from api.metrics import STREAMS_OWNED
from api.realtime import (
    AccountAlertEvent,
    EventBus,
    OrderEvent,
    Ownership,
    SnapshotEvent,
    StreamLocks,
    Subscription,
    WireEvent,
    account_key,
    publish_many,
)
from api.realtime.connections import CONNECTION_ERRORS
from api.realtime.events import ALERT_BROKER_KEYS_REFUSED
from api.vault import Vault, VaultError
from api.waits import wait_at_most

if TYPE_CHECKING:
    from api.broker.trade_stream import KeylessTradingStream

log = logging.getLogger(__name__)

MIN_REFRESH_SPACING = 0.25  # seconds between snapshot reads after a burst of fills
RETRY_DELAY = 2.0  # after a failed account or snapshot read
HALT_TIMEOUT = 2.0


class StreamSupervisor:
    """This process's share of the broker streams; one per process, built by `Services`."""

    def __init__(
        self,
        settings: Settings,
        vault: Vault,
        accounts: AccountService,
        gateway: BrokerGateway,
        database: Database,
        bus: EventBus,
        *,
        locks: StreamLocks | None = None,
        lock_poll_interval: float = 1.0,
        linger: float = 1.0,
    ) -> None:
        self._settings = settings
        self._vault = vault
        self._accounts = accounts
        self._gateway = gateway
        self._database = database
        self._bus = bus
        self._locks = locks or StreamLocks(database)
        self._poll = lock_poll_interval
        self._linger = linger
        self._interval = settings.snapshot_interval
        self._reconciler = Reconciler(accounts, gateway, database)
        self._watches: dict[UUID, AccountWatch] = {}
        self._ending: set[asyncio.Task[None]] = set()
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Nothing runs until someone subscribes; kept for symmetry with the bus."""

    async def stop(self) -> None:
        """Stop every stream and release every lock (process shutdown)."""
        self._stopped = True
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        tasks.extend(self._ending)
        for watch in self._watches.values():
            if watch.linger is not None:
                watch.linger.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._watches.clear()
        await self._locks.close()

    @property
    def owned(self) -> frozenset[UUID]:
        """Accounts whose stream this process runs now."""
        return self._locks.owned

    def stream_of(self, account_id: UUID) -> KeylessTradingStream | None:
        watch = self._watches.get(account_id)
        return None if watch is None else watch.stream

    # ------------------------------------------------------------------ interest

    @contextlib.asynccontextmanager
    async def interest(self, owner_id: UUID, account_id: UUID) -> AsyncIterator[None]:
        """Hold the account's stream open (somewhere in the deployment) for this block.

        The caller has checked that `owner_id` owns the account; the watch
        reads the account's keys in that owner's tenant scope only.
        """
        watch = self._enter(owner_id, account_id)
        try:
            yield
        finally:
            self._leave(watch)

    def _enter(self, owner_id: UUID, account_id: UUID) -> AccountWatch:
        if self._stopped:
            raise RuntimeError("the stream supervisor has stopped")
        watch = self._watches.get(account_id)
        if watch is None or watch.owner_id != owner_id:
            if watch is not None:
                # Same account id, another owner: impossible unless ids were reused; never share.
                raise RuntimeError("account watched for another owner")
            watch = AccountWatch(owner_id, account_id, OrderLedger(datetime.now(UTC)))
            self._watches[account_id] = watch
            watch.task = asyncio.create_task(self._run(watch), name=f"stream-watch-{account_id}")
        if watch.linger is not None:
            watch.linger.cancel()
            watch.linger = None
        watch.refs += 1
        return watch

    def _leave(self, watch: AccountWatch) -> None:
        watch.refs -= 1
        if watch.refs > 0 or self._watches.get(watch.account_id) is not watch:
            return
        loop = asyncio.get_running_loop()
        watch.linger = loop.call_later(self._linger, self._end, watch)

    def _end(self, watch: AccountWatch) -> None:
        watch.linger = None
        if watch.refs > 0 or self._watches.get(watch.account_id) is not watch:
            return
        del self._watches[watch.account_id]
        if watch.task is not None and not watch.task.done():
            watch.task.cancel()
            self._ending.add(watch.task)
            watch.task.add_done_callback(self._ending.discard)

    # ------------------------------------------------------------------ first snapshot

    async def current_snapshot(self, account: Account) -> SnapshotEvent:
        """The account's balances for a new subscriber: shared and at most one interval old.

        Raises BrokerError (the broker is down); call it only inside
        `interest()`, with the account the subscriber's own read returned.
        """
        watch = self._watches.get(account.id)
        if watch is None or watch.owner_id != account.owner_id:
            return await self._snapshot_of(account)
        if watch.latest is not None and time.monotonic() - watch.latest_at < self._interval:
            return watch.latest
        if watch.fetching is None or watch.fetching.done():
            watch.fetching = asyncio.create_task(self._snapshot_of(account))
        snapshot = await asyncio.shield(watch.fetching)
        watch.remember(snapshot, published=False)
        return snapshot

    async def _snapshot_of(self, account: Account) -> SnapshotEvent:
        snapshot = await self._gateway.snapshot(account.broker)
        return SnapshotEvent.of(account.id, account.owner_id, snapshot)

    async def _fetch_snapshot(self, watch: AccountWatch) -> SnapshotEvent:
        account = await self._accounts.find(watch.owner_id, watch.account_id)
        if account is None:
            raise BrokerError(ErrorCode.NOT_FOUND, "No such account")
        return await self._snapshot_of(account)

    # ------------------------------------------------------------------ one account

    async def _run(self, watch: AccountWatch) -> None:
        """Observe the account's events and compete for its stream until the watch ends."""
        try:
            async with self._bus.subscribe(account_key(watch.owner_id, watch.account_id)) as events:
                observer = asyncio.create_task(self._observe(watch, events))
                competitor = asyncio.create_task(self._compete(watch))
                try:
                    await asyncio.wait({observer, competitor}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (observer, competitor):
                        task.cancel()
                    await asyncio.gather(observer, competitor, return_exceptions=True)
                for task in (observer, competitor):
                    if not task.cancelled() and task.exception() is not None:
                        log.error(
                            "stream watch of account %s failed",
                            watch.account_id,
                            exc_info=task.exception(),
                        )
                if events.close_reason not in (None, "unsubscribed"):
                    log.info(
                        "stream watch of account %s ended: %s",
                        watch.account_id,
                        events.close_reason,
                    )
        finally:
            if self._watches.get(watch.account_id) is watch:
                del self._watches[watch.account_id]

    async def _observe(self, watch: AccountWatch, events: Subscription) -> None:
        """Note what anyone published, until the bus ends the subscription (account removed)."""
        async for event in events:
            if isinstance(event, OrderEvent):
                watch.ledger.note(event.order.id, event.order.updated_at)
            elif isinstance(event, SnapshotEvent):
                watch.remember(event, published=True)

    async def _compete(self, watch: AccountWatch) -> None:
        while True:
            try:
                ownership = await self._locks.acquire(watch.account_id, poll_interval=self._poll)
            except (*CONNECTION_ERRORS, asyncpg.InternalClientError) as exc:
                # The database is out of reach (logged once by api/db/outage.py): keep
                # competing, so the account has a stream again when it is back (RT-03).
                log.info("account %s: cannot compete for the stream (%s)", watch.account_id, exc)
                await asyncio.sleep(RETRY_DELAY)
                continue
            async with ownership:
                with STREAMS_OWNED.track_inprogress():
                    await self._own(watch, ownership)
            if ownership.lost:
                log.warning(
                    "account %s: lost the stream lock's connection; competing again",
                    watch.account_id,
                )
            else:
                # A stream task failed (logged by _own): let another process try first.
                await asyncio.sleep(RETRY_DELAY)

    async def _own(self, watch: AccountWatch, ownership: Ownership) -> None:
        # alpaca-py's stream is imported when the first one starts, not at start-up:
        # importing alpaca-py loads pandas (docs/architecture.md, performance budget)
        from api.broker.trade_stream import KeylessTradingStream

        url = self._settings.stream_url(await self._environment(watch))
        stream = KeylessTradingStream(
            url,
            credentials=lambda: self._credentials(watch),
            on_update=lambda message: self._on_update(watch, message),
            on_connected=lambda: self._connected(watch),
            on_refused=lambda: self._keys_refused(watch),
        )
        watch.stream = stream
        watch.refresh_wanted.set()  # a first refresh at once: a new owner may have missed one
        tasks = {
            asyncio.create_task(stream._run_forever(), name=f"trade-stream-{watch.account_id}"),
            asyncio.create_task(self._refresh(watch)),
            asyncio.create_task(self._reconciler.run(watch)),
            asyncio.create_task(ownership.wait_lost()),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not ownership.lost:
                    error = None if task.cancelled() else task.exception()
                    log.error(
                        "account %s: a stream task ended unexpectedly; releasing the stream",
                        watch.account_id,
                        exc_info=error,
                    )
        finally:
            watch.stream = None
            await self._halt(stream, tasks)

    async def _halt(self, stream: KeylessTradingStream, tasks: set[asyncio.Task[None]]) -> None:
        # stop_ws() marks the stream as stopping; alpaca-py's loop would notice only at its
        # next 5 s receive timeout, and closing the socket under it logs a reconnect warning,
        # so the loop is cancelled (it catches Exception, never CancelledError) and the
        # socket closed afterwards.
        await stream.stop_ws()
        for task in tasks:
            task.cancel()
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            # Also when shutdown cancels this task a second time, mid-halt: a socket left
            # open would linger for the WebSocket library's close timeout (10 s).
            with contextlib.suppress(*CONNECTION_ERRORS, TimeoutError):
                async with asyncio.timeout(HALT_TIMEOUT):
                    await stream.close()

    def _connected(self, watch: AccountWatch) -> None:
        watch.refusal_reported = False
        watch.reconcile_wanted.set()

    def _keys_refused(self, watch: AccountWatch) -> None:
        """The broker refused the stored keys: tell the owner once (PUSH-01), not per retry."""
        if watch.refusal_reported:
            return
        watch.refusal_reported = True
        alert = AccountAlertEvent(
            watch.account_id, watch.owner_id, ALERT_BROKER_KEYS_REFUSED, datetime.now(UTC)
        )
        task = asyncio.create_task(self._publish_alert(watch, alert))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def _publish_alert(self, watch: AccountWatch, alert: AccountAlertEvent) -> None:
        try:
            async with self._database.pool.acquire() as conn:
                await publish_many(conn, [alert])
        except CONNECTION_ERRORS as exc:
            log.warning("account %s: could not publish an alert (%s)", watch.account_id, exc)
            watch.refusal_reported = False  # told at the next refusal instead

    async def _environment(self, watch: AccountWatch) -> str:
        while True:
            try:
                account = await self._accounts.find(watch.owner_id, watch.account_id)
            except CONNECTION_ERRORS as exc:
                log.warning("account %s: cannot read the account (%s)", watch.account_id, exc)
            else:
                return account.environment if account is not None else "PAPER"
            await asyncio.sleep(RETRY_DELAY)

    async def _credentials(self, watch: AccountWatch) -> tuple[str, str] | None:
        """Decrypted now, for one authentication message (CRED-02); None if removed."""
        from api.broker.trade_stream import StreamRetryLater  # loaded by `_own` already

        try:
            account = await self._accounts.find(watch.owner_id, watch.account_id)
        except CONNECTION_ERRORS as exc:
            raise StreamRetryLater(f"cannot read the account's keys now ({exc})") from None
        if account is None:
            return None
        ref = account.broker
        try:
            return (
                self._vault.decrypt(ref.key_id_encrypted, account_id=ref.id, owner_id=ref.owner_id),
                self._vault.decrypt(ref.secret_encrypted, account_id=ref.id, owner_id=ref.owner_id),
            )
        except VaultError:
            log.error("account %s: its stored keys do not decrypt; no stream", watch.account_id)
            return None

    # ------------------------------------------------------------------ trade updates

    async def _on_update(self, watch: AccountWatch, message: dict[str, object]) -> None:
        """Forward one trade update; on failure the next reconciliation reports it."""
        from api.broker.trade_stream import trade_update  # loaded by `_own` already

        try:
            update = trade_update(message)
        except BrokerError:
            log.error("account %s: unreadable trade update; reconciling", watch.account_id)
            watch.reconcile_wanted.set()
            return
        event = OrderEvent(
            watch.account_id,
            watch.owner_id,
            update.event,
            update.order,
            update.at,
            update.price,
            update.qty,
        )
        await publish_orders(self._database, watch, [(update.order, event)])

    # ------------------------------------------------------------------ snapshots

    async def _refresh(self, watch: AccountWatch) -> None:
        """Snapshot on demand (fills) or every interval; published only when it changed."""
        while True:
            await wait_at_most(watch.refresh_wanted, self._interval)
            watch.refresh_wanted.clear()
            delay = await self._refresh_once(watch)
            await asyncio.sleep(delay)

    async def _refresh_once(self, watch: AccountWatch) -> float:
        """One snapshot read and publish; returns how long to pause before the next."""
        try:
            snapshot = await self._fetch_snapshot(watch)
        except BrokerError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return self._interval  # removed: the bus ends this watch
            if exc.extensions.get("reason") == KEYS_REFUSED:
                # the stream may stay up on old keys; the snapshot notices first (DISP-04)
                if not watch.refusal_reported:
                    log.warning("account %s: the broker refuses its keys", watch.account_id)
                self._keys_refused(watch)
                return self._interval
            log.warning("account %s: snapshot refresh failed (%s)", watch.account_id, exc.message)
            return max(RETRY_DELAY, exc.retry_after or 0.0)
        except CONNECTION_ERRORS as exc:
            log.warning("account %s: snapshot refresh failed (%s)", watch.account_id, exc)
            return RETRY_DELAY
        watch.refusal_reported = False  # the keys work (again): a new refusal is told
        if same_balances(watch.published, snapshot):
            watch.remember(snapshot, published=False)
            return MIN_REFRESH_SPACING
        watch.remember(snapshot, published=True)
        await self._publish(watch, snapshot)
        return MIN_REFRESH_SPACING

    async def _publish(self, watch: AccountWatch, event: WireEvent) -> None:
        try:
            async with self._database.pool.acquire() as conn:
                await publish_many(conn, [event])
        except CONNECTION_ERRORS as exc:
            log.warning("account %s: could not publish a snapshot (%s)", watch.account_id, exc)
            watch.published = None  # so the next refresh publishes again
