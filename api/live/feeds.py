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
from typing import TypeGuard
from uuid import UUID

from api.accounts import Account, AccountService
from api.live.supervisor import StreamSupervisor
from api.realtime.bus import EventBus
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
        account = await self._accounts.resolve(user_id, account_id)
        key = account_key(user_id, account.id)
        async with (
            self._streams.interest(user_id, account.id),
            self._bus.subscribe(key, session_id=session_id) as events,
        ):
            yield account.id, await self._streams.current_snapshot(account)
            async for event in events:
                if isinstance(event, OrdersMissedEvent):
                    # the stream's owner could not list every change: refetch (RT-01)
                    yield account.id, ORDERS_MISSED
                elif isinstance(event, AccountAlertEvent):
                    if event.alert == ALERT_BROKER_KEYS_REFUSED:
                        yield account.id, KEYS_REFUSED  # said at once, not at the next read
                elif _is_update(event):
                    yield account.id, event

    async def active_account_changes(
        self, user_id: UUID, session_id: UUID
    ) -> AsyncIterator[Account | None]:
        """The user's active account (None: none) each time any device changes it."""
        async with self._bus.subscribe(owner_key(user_id), session_id=session_id) as events:
            async for event in events:
                if isinstance(event, ActiveAccountChangedEvent | ResyncEvent):
                    yield await self._accounts.active(user_id)


def _is_update(event: Event) -> TypeGuard[AccountUpdate]:
    return isinstance(event, SnapshotEvent | OrderEvent | PositionsChangedEvent | ResyncEvent)
