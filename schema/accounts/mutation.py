"""Mutations of the accounts domain (ACCT-01, ACCT-03..05): thin over api.accounts."""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.accounts.types import AddAccountInput, BrokerAccount
from schema.context import Info
from schema.permissions import IsAuthenticated


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Verify the keys with the broker, then store them encrypted.",
    )
    async def add_account(self, info: Info, input: AddAccountInput) -> BrokerAccount:
        user_id = info.context.require_principal().user_id
        account = await info.context.services.accounts.add(
            user_id,
            nickname=input.nickname,
            environment=input.environment.value,
            api_key_id=input.api_key_id,
            secret_key=input.secret_key,
        )
        return BrokerAccount.of(account)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Replace the keys; they must open the same Alpaca account.",
    )
    async def update_account_credentials(
        self,
        info: Info,
        id: UUID,
        api_key_id: str,
        secret_key: str,
    ) -> BrokerAccount:
        user_id = info.context.require_principal().user_id
        account = await info.context.services.accounts.update_credentials(
            user_id, id, api_key_id=api_key_id, secret_key=secret_key
        )
        return BrokerAccount.of(account)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def rename_account(self, info: Info, id: UUID, nickname: str) -> BrokerAccount:
        user_id = info.context.require_principal().user_id
        return BrokerAccount.of(await info.context.services.accounts.rename(user_id, id, nickname))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Forget the account and its keys; subscriptions on it end.",
    )
    async def remove_account(self, info: Info, id: UUID) -> bool:
        user_id = info.context.require_principal().user_id
        await info.context.services.accounts.remove(user_id, id)
        return True

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Make this the active account on every device.",
    )
    async def set_active_account(self, info: Info, id: UUID) -> BrokerAccount:
        user_id = info.context.require_principal().user_id
        return BrokerAccount.of(await info.context.services.accounts.set_active(user_id, id))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Paper only: let chat orders go through without confirmation.",
    )
    async def set_chat_auto_execute(
        self,
        info: Info,
        id: UUID,
        enabled: bool,
    ) -> BrokerAccount:
        user_id = info.context.require_principal().user_id
        account = await info.context.services.accounts.set_chat_auto_execute(user_id, id, enabled)
        return BrokerAccount.of(account)
