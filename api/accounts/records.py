"""One stored account as a single read hands it out: what people see and what the broker needs.

An ``Account`` is built from one row read in the owner's tenant scope and is
passed down a unit of work instead of being read again: its ``record`` is
what the product shows (never a key, only the hint), its ``broker`` the
gateway's view with the key id and secret still encrypted (CRED-02).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from uuid import UUID

import asyncpg

from api.broker.models import AccountRef, Environment

# Every read joins the owner's user row to know which account is active.
SELECT = """select a.id, a.owner_id, a.nickname, a.environment, a.key_hint, a.chat_auto_execute,
    a.created_at, a.last_verified_at, a.broker_account_number, a.key_id_encrypted,
    a.secret_encrypted, (u.active_account_id is not distinct from a.id) as is_active
    from app.broker_accounts a join app.users u on u.id = a.owner_id"""


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """What the product shows of an account: never a key, only its hint."""

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
        # SELECT names its columns as the fields are named; the names are listed once
        # (below the class), as every request reads accounts
        return cls(*[row[name] for name in _RECORD_FIELDS])


_RECORD_FIELDS = tuple(f.name for f in fields(AccountRecord))


@dataclass(frozen=True, slots=True)
class Account:
    """A stored account: ``record`` for people, ``broker`` for the gateway (still encrypted)."""

    record: AccountRecord
    broker: AccountRef

    @property
    def id(self) -> UUID:
        return self.record.id

    @property
    def owner_id(self) -> UUID:
        return self.record.owner_id

    @property
    def environment(self) -> Environment:
        return self.record.environment

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Account:
        return cls(
            record=AccountRecord.from_row(row),
            broker=AccountRef(
                id=row["id"],
                owner_id=row["owner_id"],
                environment=row["environment"],
                key_id_encrypted=bytes(row["key_id_encrypted"]),
                secret_encrypted=bytes(row["secret_encrypted"]),
            ),
        )
