"""What a subscriber receives: the two live feeds behind the GraphQL subscriptions.

`account_updates` is the DISP-02 / RT-01 feed of one account: ownership is
checked first in the subscriber's tenant scope (someone else's id is
NOT_FOUND, ISO-03), then the subscriber registers with the bus (by session,
so sign-out ends it: AUTH-03; removal of the account ends it: ACCT-05) and
with the stream supervisor (so the account's broker stream runs somewhere),
and only then reads the current snapshot, so no event can slip between the
snapshot and the first live event.

`active_account_changes` re-reads the active account in the user's own scope
whenever any device switches it (ACCT-03); the event itself carries only ids.

Each database read is its own short tenant transaction: nothing is held open
while a subscriber waits for the next event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeGuard
from uuid import UUID

from api.accounts import Account, AccountService
from api.live.supervisor import StreamSupervisor
from api.realtime.bus import EventBus, Subscription
from api.realtime.events import (
    ALERT_BROKER_KEYS_REFUSED,
    AccountAlertEvent,
    ActiveAccountChangedEvent,
    Event,
    OrderEvent,
    OrdersMissedEvent,
    PositionsChangedEvent,
    ResyncEvent,
    SnapshotEvent,
    account_key,
    owner_key,
)

AccountUpdate = SnapshotEvent | OrderEvent | PositionsChangedEvent | ResyncEvent
ORDERS_MISSED = ResyncEvent("reconnected")
KEYS_REFUSED = ResyncEvent("keys_refused")


class Feeds:
    """The subscriptions' service: one per process, built by `Services`."""

    def __init__(self, accounts: AccountService, bus: EventBus, streams: StreamSupervisor) -> None:
        self._accounts = accounts
        self._bus = bus
        self._streams = streams

    async def account_updates(
        self, user_id: UUID, session_id: UUID, account_id: UUID | None
    ) -> AsyncIterator[tuple[UUID, AccountUpdate]]:
        """(account id, event) pairs, the current snapshot first; NOT_FOUND unless owned.

        `account_id` None means the active account. Ends when the account is
        removed, the session is revoked or the server shuts down.
        """
        account = await self.resolve(user_id, account_id)
        async with self.account_events(account, session_id=session_id) as updates:
            yield account.id, await self.current_snapshot(account)
            async for update in updates:
                yield account.id, update

    async def resolve(self, user_id: UUID, account_id: UUID | None) -> Account:
        """The account a subscriber asked for (None: the active one); NOT_FOUND unless owned."""
        return await self._accounts.resolve(user_id, account_id)

    @asynccontextmanager
    async def account_events(
        self, account: Account, *, session_id: UUID | None = None
    ) -> AsyncIterator[AsyncIterator[AccountUpdate]]:
        """The account's live updates for as long as the block runs, from its start on.

        `account` is what `resolve` returned, so its owner was checked. The
        account's broker stream is held open meanwhile. With `session_id`,
        revoking that session ends the updates (AUTH-03); without it, the
        caller ends what it gave to a revoked session itself (schema/realtime
        /fanout.py shares one block between many subscribers). Removal of the
        account and shutdown end them either way.
        """
        key = account_key(account.owner_id, account.id)
        async with (
            self._streams.interest(account.owner_id, account.id),
            self._bus.subscribe(key, session_id=session_id) as events,
        ):
            yield _updates(events)

    async def current_snapshot(self, account: Account) -> SnapshotEvent:
        """The account's balances now, for a new subscriber; inside `account_events` only,
        so no event can slip between the snapshot and the first live one."""
        return await self._streams.current_snapshot(account)

    async def active_account_changes(
        self, user_id: UUID, session_id: UUID
    ) -> AsyncIterator[Account | None]:
        """The user's active account (None: none) each time any device changes it."""
        async with self._bus.subscribe(owner_key(user_id), session_id=session_id) as events:
            async for event in events:
                if isinstance(event, ActiveAccountChangedEvent | ResyncEvent):
                    yield await self._accounts.active(user_id)


async def _updates(events: Subscription) -> AsyncIterator[AccountUpdate]:
    """The bus's events of an account as a subscriber sees them."""
    async for event in events:
        if isinstance(event, OrdersMissedEvent):
            # the stream's owner could not list every change: refetch (RT-01)
            yield ORDERS_MISSED
        elif isinstance(event, AccountAlertEvent):
            if event.alert == ALERT_BROKER_KEYS_REFUSED:
                yield KEYS_REFUSED  # said at once, not at the next read
        elif _is_update(event):
            yield event


def _is_update(event: Event) -> TypeGuard[AccountUpdate]:
    return isinstance(event, SnapshotEvent | OrderEvent | PositionsChangedEvent | ResyncEvent)
