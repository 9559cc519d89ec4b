"""Subscriptions of the realtime domain (RT-01, RT-02, DISP-02, ACCT-03, ISO-03)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry

from schema.accounts.types import BrokerAccount
from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.realtime.fanout import current_delivery
from schema.realtime.types import AccountUpdate, account_update


@strawberry.type
class RealtimeSubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Live updates of one of your accounts (the active one when omitted): first "
        "its current SnapshotEvent, then order events, position changes and new snapshots as "
        "they happen. NOT_FOUND unless the account is yours. Ends when the account is "
        "removed or you sign out.",
    )
    async def account_updates(
        self, info: Info, account_id: UUID | None = None
    ) -> AsyncGenerator[AccountUpdate, None]:
        principal = info.context.require_principal()
        delivery = current_delivery()
        if delivery is None:  # not over graphql-transport-ws: a stream of its own
            feed = info.context.services.feeds.account_updates(
                principal.user_id, principal.session_id, account_id
            )
            async for account, event in feed:
                yield account_update(account, event)
            return
        # over a socket: later events reach it through its group (fanout.py); a plain
        # try rather than a context manager, whose state would be held per subscriber
        member = await delivery.join(
            info.context, principal.user_id, principal.session_id, account_id
        )
        try:
            yield await member.snapshot()
            while (payload := await member.next_payload()) is not None:
                yield payload
        finally:
            delivery.leave(member)

    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Your active account (null when none) each time it is switched, on any device.",
    )
    async def active_account_changed(
        self, info: Info
    ) -> AsyncGenerator[BrokerAccount | None, None]:
        principal = info.context.require_principal()
        changes = info.context.services.feeds.active_account_changes(
            principal.user_id, principal.session_id
        )
        async for account in changes:
            yield None if account is None else BrokerAccount.of(account)
