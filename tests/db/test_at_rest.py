"""CRED-01: a database dump never contains a plaintext credential."""

from __future__ import annotations

import asyncpg
from cryptography.fernet import Fernet

from api.db import Database
from api.vault import Vault
from tests.fixtures.tenants import fake_credentials, make_user, store_account


async def test_no_column_of_any_table_holds_a_plaintext_secret(
    db: Database, owner: asyncpg.Connection, known_secrets: set
) -> None:
    vault = Vault([Fernet.generate_key().decode()])
    plaintexts = []
    for n in range(2):
        user = await make_user(db, f"user{n}@example.com")
        for environment in ("PAPER", "LIVE"):
            key_id, secret = fake_credentials()
            known_secrets.update({key_id, secret})
            plaintexts += [key_id, secret]
            await store_account(
                db, vault, user, key_id, secret, nickname=environment, environment=environment
            )

    columns = await owner.fetch(
        """select table_schema, table_name, column_name, data_type
           from information_schema.columns
           where table_schema not in ('pg_catalog', 'information_schema')
             and data_type in ('text', 'bytea', 'jsonb', 'character varying')"""
    )
    assert any(c["column_name"] == "secret_encrypted" for c in columns)
    for column in columns:
        cell = f'"{column["table_schema"]}"."{column["table_name"]}"'
        value = f'"{column["column_name"]}"'
        as_text = (
            f"encode({value}, 'escape')" if column["data_type"] == "bytea" else f"{value}::text"
        )
        for secret in plaintexts:
            hits = await owner.fetchval(
                f"select count(*) from {cell} where position($1 in {as_text}) > 0", secret
            )
            assert hits == 0, f"{column['table_name']}.{column['column_name']} holds a plaintext"
