"""Catching up after a (re)connect: orders that changed while no stream listened (RT-03).

Each time the account's trade-update stream (re)connects, the owner of the
stream reads the account's orders back to the ledger's horizon and reports
those the bus has not carried, as `OrderEvent`s; more than `RECONCILE_PAGES`
pages of changes become one `OrdersMissedEvent` (subscribers refetch) instead
of a flood. Between reconnects it moves the account's stored mark
(api/live/marks.py) forward, so whoever owns the stream next (after a restart,
in another process) starts from there.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from api.accounts import Account, AccountService
from api.broker.errors import BrokerError
from api.broker.gateway import BrokerGateway
from api.broker.models import BrokerOrder
from api.db import Database
from api.live import marks
from api.live.ledger import event_for
from api.live.watch import AccountWatch, publish_orders
from api.realtime import OrderEvent, OrdersMissedEvent, publish_many
from api.realtime.connections import CONNECTION_ERRORS
from api.waits import wait_at_most

log = logging.getLogger(__name__)

RECONCILE_LIMIT = 100  # orders per page compared after a (re)connect
# Pages read back at most; an account with more changes since its mark than these hold
# gets an OrdersMissedEvent (its subscribers refetch) instead of one event per order.
RECONCILE_PAGES = 10
MARK_INTERVAL = 15.0  # seconds between moves of the stored mark while the stream listens
MARK_LAG = timedelta(seconds=5)  # a trade update may still be on its way when the mark moves
RETRY_DELAY = 2.0  # after a failed reconciliation
# a reconciliation retries after either; named, as mypy reads no `*` inside `except (...)`
_RECONCILE_ERRORS: tuple[type[BaseException], ...] = (BrokerError, *CONNECTION_ERRORS)


class Reconciler:
    """Runs one account's catching up for as long as this process owns its stream."""

    def __init__(
        self, accounts: AccountService, gateway: BrokerGateway, database: Database
    ) -> None:
        self._accounts = accounts
        self._gateway = gateway
        self._database = database

    async def run(self, watch: AccountWatch) -> None:
        """After each (re)connect: report orders that changed while no stream listened.

        Between reconnects it moves the account's stored mark forward, so whoever owns
        the stream next (after a restart, another process) starts from there (RT-03).
        """
        while True:
            if not await wait_at_most(watch.reconcile_wanted, MARK_INTERVAL):
                await self._advance_mark(watch)
                continue
            watch.reconcile_wanted.clear()
            connects = watch.stream.connects if watch.stream is not None else 0
            started = datetime.now(UTC)
            try:
                account = await self._accounts.find(watch.owner_id, watch.account_id)
                if account is None:
                    continue  # removed: the bus ends this watch
                if not watch.mark_read:
                    mark = await marks.reported_through(
                        self._database, watch.owner_id, watch.account_id
                    )
                    if mark is not None:
                        watch.ledger.reach_back(mark)
                    watch.mark_read = True
                orders, complete = await self._orders_since(account, watch.ledger.since)
            except _RECONCILE_ERRORS as exc:
                log.warning(
                    "account %s: reconciliation failed (%s); retrying", watch.account_id, exc
                )
                await asyncio.sleep(RETRY_DELAY)
                watch.reconcile_wanted.set()
                continue
            if complete:
                await self._report_missed(watch, watch.ledger.missed(orders))
            else:
                await self._report_too_many(watch, orders)
            if not watch.reconcile_wanted.is_set():  # nothing failed to publish
                watch.reconciled_connects = connects
                await self._store_mark(watch, started - MARK_LAG)

    async def _orders_since(
        self, account: Account, since: datetime
    ) -> tuple[list[BrokerOrder], bool]:
        """The account's orders submitted since `since` (and one page at least), paging back
        newest first; False when `RECONCILE_PAGES` pages did not reach that far."""
        seen: dict[str, BrokerOrder] = {}
        until: datetime | None = None
        for _ in range(RECONCILE_PAGES):
            page = await self._gateway.orders(account.broker, "all", RECONCILE_LIMIT, until=until)
            fresh = [order for order in page if order.id not in seen]
            seen.update((order.id, order) for order in fresh)
            if len(page) < RECONCILE_LIMIT:
                return list(seen.values()), True
            if not fresh:
                return list(seen.values()), False  # a page of one instant: cannot page on
            oldest = min(order.created_at for order in page)
            if oldest <= since:
                return list(seen.values()), True
            # `until` is exclusive: the oldest instant is read again, its orders deduplicated
            until = oldest + timedelta(microseconds=1)
        return list(seen.values()), False

    async def _report_missed(self, watch: AccountWatch, missed: list[BrokerOrder]) -> None:
        if not missed:
            return
        log.info(
            "account %s: %d order change(s) happened off-stream; reporting them",
            watch.account_id,
            len(missed),
        )
        items = [
            (
                order,
                OrderEvent(
                    watch.account_id,
                    watch.owner_id,
                    event_for(order.status),
                    order,
                    order.updated_at,
                ),
            )
            for order in missed
        ]
        await publish_orders(self._database, watch, items)

    async def _report_too_many(self, watch: AccountWatch, orders: list[BrokerOrder]) -> None:
        """More changed than can be listed: one resync for the subscribers, not a flood."""
        log.warning(
            "account %s: more order changes since %s than %d pages hold; subscribers refetch",
            watch.account_id,
            watch.ledger.since.isoformat(),
            RECONCILE_PAGES,
        )
        try:
            async with self._database.pool.acquire() as conn:
                await publish_many(conn, [OrdersMissedEvent(watch.account_id, watch.owner_id)])
        except CONNECTION_ERRORS as exc:
            log.error("account %s: could not publish a resync (%s)", watch.account_id, exc)
            watch.reconcile_wanted.set()
            return
        for order in orders:
            watch.ledger.note(order.id, order.updated_at)

    async def _advance_mark(self, watch: AccountWatch) -> None:
        """While the stream has listened since its last reconciliation, every change up to
        a moment ago was reported: the stored mark may move to then."""
        stream = watch.stream
        if stream is None or not stream.connected or stream.connects != watch.reconciled_connects:
            return
        await self._store_mark(watch, datetime.now(UTC) - MARK_LAG)

    async def _store_mark(self, watch: AccountWatch, through: datetime) -> None:
        try:
            await marks.mark_reported(self._database, watch.owner_id, watch.account_id, through)
        except CONNECTION_ERRORS as exc:
            # the next move, or the next owner's wider reconciliation, covers it
            log.debug("account %s: could not store the stream mark (%s)", watch.account_id, exc)
