"""Queries of the accounts domain (ACCT-02, DISP-01..03): the signed-in user's accounts only."""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.accounts.types import BrokerAccount
from schema.context import Info
from schema.permissions import IsAuthenticated


@strawberry.type
class AccountsQuery:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def accounts(self, info: Info) -> list[BrokerAccount]:
        user_id = info.context.require_principal().user_id
        return [BrokerAccount.of(a) for a in await info.context.services.accounts.list(user_id)]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Null when none is set.")
    async def active_account(self, info: Info) -> BrokerAccount | None:
        user_id = info.context.require_principal().user_id
        account = await info.context.services.accounts.active(user_id)
        return None if account is None else BrokerAccount.of(account)

    @strawberry.field(permission_classes=[IsAuthenticated], description="NOT_FOUND unless yours.")
    async def account(self, info: Info, id: UUID) -> BrokerAccount:
        user_id = info.context.require_principal().user_id
        return BrokerAccount.of(await info.context.services.accounts.get(user_id, id))
