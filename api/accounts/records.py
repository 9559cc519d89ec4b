"""What the rest of the product knows about a stored account: never its keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from api.broker.models import Environment

# Every read joins the owner's user row to know which account is active.
SELECT = """select a.id, a.owner_id, a.nickname, a.environment, a.key_hint, a.chat_auto_execute,
    a.created_at, a.last_verified_at, a.broker_account_number,
    (u.active_account_id is not distinct from a.id) as is_active
    from app.broker_accounts a join app.users u on u.id = a.owner_id"""


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: UUID
    owner_id: UUID
    nickname: str
    environment: Environment
    key_hint: str
    is_active: bool
    chat_auto_execute: bool
    created_at: datetime
    last_verified_at: datetime | None
    broker_account_number: str

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> AccountRecord:
        return cls(
            id=row["id"],
            owner_id=row["owner_id"],
            nickname=row["nickname"],
            environment=row["environment"],
            key_hint=row["key_hint"],
            is_active=row["is_active"],
            chat_auto_execute=row["chat_auto_execute"],
            created_at=row["created_at"],
            last_verified_at=row["last_verified_at"],
            broker_account_number=row["broker_account_number"],
        )
