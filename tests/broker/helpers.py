"""Users and stored broker accounts for gateway tests, made the way the product makes them.

Users come from ``app.sign_up`` (the first user needs no invite, later ones
spend an operator's invite); account rows are inserted in the owner's tenant
scope with keys encrypted by the vault under the test key.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, cast
from uuid import UUID, uuid4

from api.broker import AccountRef, Environment
from api.db import Database
from api.vault import Vault, key_hint


async def sign_up(db: Database, email: str | None = None) -> UUID:
    email = email or f"{secrets.token_hex(4)}@example.test"
    code_hash = hashlib.sha256(secrets.token_bytes(16)).digest()
    async with db.as_operator() as conn:
        await conn.execute(
            "insert into app.invites (code_hash, expires_at) values ($1, now() + interval '1 day')",
            code_hash,
        )
    async with db.anonymous() as conn:
        user_id: UUID = await conn.fetchval(
            "select app.sign_up($1, 'not-a-real-hash', $2)", email, code_hash
        )
    return user_id


async def store_account(
    db: Database,
    vault: Vault,
    owner_id: UUID,
    minted: dict[str, Any],
    *,
    environment: str = "PAPER",
) -> AccountRef:
    """An app.broker_accounts row for sandbox keys; returns it as the gateway's AccountRef."""
    account_id = uuid4()
    key_id_encrypted = vault.encrypt(minted["api_key_id"], account_id=account_id, owner_id=owner_id)
    secret_encrypted = vault.encrypt(minted["secret_key"], account_id=account_id, owner_id=owner_id)
    async with db.tenant(owner_id) as conn:
        await conn.execute(
            """insert into app.broker_accounts
               (id, owner_id, nickname, environment, key_id_encrypted, secret_encrypted, key_hint,
                broker_account_number)
               values ($1, $2, $3, $4, $5, $6, $7, $8)""",
            account_id,
            owner_id,
            f"acct {secrets.token_hex(3)}",
            environment,
            key_id_encrypted,
            secret_encrypted,
            key_hint(minted["api_key_id"]),
            minted["account_number"],
        )
    env = cast(Environment, environment)
    return AccountRef(account_id, owner_id, env, key_id_encrypted, secret_encrypted)
