"""Mutations of the accounts domain (ACCT-01, ACCT-03..05): thin over api.accounts."""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.accounts.limits import AccountLimitsInput, BrokerConfiguration, BrokerConfigurationInput
from schema.accounts.types import AddAccountInput, BrokerAccount
from schema.auth.passkeys import PasskeyAnswer
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

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Replace the account's limits (null: no limit). Loosening a live account's "
        "limits needs a sign-in within 5 minutes or a passkey approving them: PASSKEY_REQUIRED "
        "(with the options) for a person with a passkey, else FORBIDDEN with reason "
        "FRESH_SIGN_IN_REQUIRED.",
    )
    async def set_account_limits(
        self,
        info: Info,
        account_id: UUID,
        input: AccountLimitsInput,
        passkey: PasskeyAnswer = None,
    ) -> BrokerAccount:
        principal = info.context.require_principal()
        wanted = input.limits()
        risk = info.context.services.risk
        account = await risk.set_limits(principal, account_id, wanted, passkey)
        return BrokerAccount.of(account)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Stop all trading on the account: new orders are refused (ACCOUNT_HALTED), "
        "suspend_trade is set at the broker, every open order is cancelled. Positions can "
        "still be closed.",
    )
    async def halt_account(self, info: Info, account_id: UUID) -> BrokerAccount:
        user_id = info.context.require_principal().user_id
        return BrokerAccount.of(await info.context.services.risk.halt(user_id, account_id))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Lift a halt and the broker's suspend_trade; on a live account only within "
        "5 minutes of signing in or with a passkey (PASSKEY_REQUIRED carries the options).",
    )
    async def resume_account(
        self,
        info: Info,
        account_id: UUID,
        passkey: PasskeyAnswer = None,
    ) -> BrokerAccount:
        principal = info.context.require_principal()
        risk = info.context.services.risk
        return BrokerAccount.of(await risk.resume(principal, account_id, passkey))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Change the account's own settings at the broker (only the fields given). "
        "Loosening them on a live account needs a sign-in within 5 minutes or a passkey "
        "(PASSKEY_REQUIRED carries the options).",
    )
    async def set_broker_configuration(
        self,
        info: Info,
        account_id: UUID,
        input: BrokerConfigurationInput,
        passkey: PasskeyAnswer = None,
    ) -> BrokerConfiguration:
        principal = info.context.require_principal()
        risk = info.context.services.risk
        changes = input.changes()
        updated = await risk.set_broker_configuration(principal, account_id, changes, passkey)
        return BrokerConfiguration.of(updated)
