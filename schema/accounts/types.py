"""GraphQL types of the accounts domain, mapped from api records (never from DB rows)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

import strawberry

from api.accounts import Account
from api.broker import Snapshot
from schema.accounts.limits import AccountLimits, BrokerConfiguration
from schema.context import Info


@strawberry.enum(description="Paper accounts trade simulated money; live accounts real money.")
class Environment(Enum):
    PAPER = "PAPER"
    LIVE = "LIVE"


_HUNDRED = Decimal(100)
_BASIS = Decimal("0.01")


@strawberry.type(description="Balances of an account as the broker reports them at `asOf`.")
class AccountSnapshot:
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    portfolio_value: Decimal
    last_equity: Decimal
    currency: str
    status: str
    as_of: datetime
    trading_blocked: bool
    pattern_day_trader: bool
    day_change: Decimal = strawberry.field(description="equity - lastEquity")
    day_change_percent: Decimal = strawberry.field(
        description="day change in percent of lastEquity"
    )

    @classmethod
    def of(cls, snapshot: Snapshot) -> AccountSnapshot:
        change = snapshot.equity - snapshot.last_equity
        percent = (
            (change / snapshot.last_equity * _HUNDRED).quantize(_BASIS)
            if snapshot.last_equity
            else Decimal(0)
        )
        return cls(
            cash=snapshot.cash,
            equity=snapshot.equity,
            buying_power=snapshot.buying_power,
            portfolio_value=snapshot.portfolio_value,
            last_equity=snapshot.last_equity,
            currency=snapshot.currency,
            status=snapshot.status,
            as_of=snapshot.as_of,
            trading_blocked=snapshot.trading_blocked,
            pattern_day_trader=snapshot.pattern_day_trader,
            day_change=change,
            day_change_percent=percent,
        )


@strawberry.type(description="A connected Alpaca account. Its keys never leave the server.")
class BrokerAccount:
    id: UUID
    nickname: str
    environment: Environment
    key_hint: str = strawberry.field(description="The ends of the API key id, e.g. PK…7Q2F.")
    is_active: bool
    created_at: datetime
    last_verified_at: datetime | None
    chat_auto_execute: bool = strawberry.field(
        description="Paper only: chat orders go through without confirmation."
    )
    # The account as the resolver that made this object read it, so `snapshot` asks the
    # broker without reading the row again; private: never part of the schema.
    account: strawberry.Private[Account]

    @strawberry.field(description="Fetched from the broker when asked for.")
    async def snapshot(self, info: Info) -> AccountSnapshot:
        return AccountSnapshot.of(await info.context.services.accounts.snapshot(self.account))

    @strawberry.field(description="What the owner allows on this account (RISK-01).")
    async def limits(self, info: Info) -> AccountLimits:
        controls = await info.context.controls.load(self.account)
        return AccountLimits.of(controls.limits)

    @strawberry.field(
        description="Halted by the owner: new orders are refused until resumeAccount; "
        "positions can still be closed."
    )
    async def halted(self, info: Info) -> bool:
        return (await info.context.controls.load(self.account)).halted

    @strawberry.field(description="The account's own settings at the broker, fetched when asked.")
    async def broker_configuration(self, info: Info) -> BrokerConfiguration:
        configuration = await info.context.services.risk.broker_configuration(self.account)
        return BrokerConfiguration.of(configuration)

    @classmethod
    def of(cls, account: Account) -> BrokerAccount:
        record = account.record
        return cls(
            id=record.id,
            nickname=record.nickname,
            environment=Environment(record.environment),
            key_hint=record.key_hint,
            is_active=record.is_active,
            created_at=record.created_at,
            last_verified_at=record.last_verified_at,
            chat_auto_execute=record.chat_auto_execute,
            account=account,
        )


@strawberry.input(description="A broker account to connect; the keys are verified first.")
class AddAccountInput:
    nickname: str
    environment: Environment
    api_key_id: str
    secret_key: str
