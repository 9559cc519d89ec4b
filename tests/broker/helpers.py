"""Gateway-shaped views of the users and account rows made by tests/fixtures/tenants.py."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from api.accounts import AccountService
from api.broker import AccountRef
from api.db import Database
from api.vault import Vault
from tests.fixtures.tenants import make_user
from tests.fixtures.tenants import store_account as store_row


async def sign_up(db: Database, email: str | None = None) -> UUID:
    return await make_user(db, email or f"{secrets.token_hex(4)}@example.test")


async def store_account(
    accounts: AccountService,
    db: Database,
    vault: Vault,
    owner_id: UUID,
    minted: dict[str, Any],
    *,
    environment: str = "PAPER",
) -> AccountRef:
    """An app.broker_accounts row for sandbox keys; returns its broker view, read by the
    accounts service in the owner's tenant scope as the product reads it."""
    stored = await store_row(
        db,
        vault,
        owner_id,
        minted["api_key_id"],
        minted["secret_key"],
        nickname=f"acct {secrets.token_hex(3)}",
        environment=environment,
        account_number=minted["account_number"],
    )
    account = await accounts.find(owner_id, stored.id)
    assert account is not None
    return account.broker
