"""CRED-01, CRED-06: credentials encrypted at rest, bound to their row, rotatable."""

from __future__ import annotations

from uuid import uuid4

import pytest
from cryptography.fernet import Fernet

from api.db import Database
from api.db.rotation import RotationProgress, rotate_credentials
from api.vault import Vault, VaultError, key_hint
from tests.fixtures.tenants import fake_credentials, make_user, store_account


def test_round_trip_and_row_binding() -> None:
    """CRED-01: a ciphertext decrypts only in the row it was written for."""
    vault = Vault([Fernet.generate_key().decode()])
    account, owner, other = uuid4(), uuid4(), uuid4()
    token = vault.encrypt("fake-secret-value", account_id=account, owner_id=owner)
    assert b"fake-secret-value" not in token
    assert vault.decrypt(token, account_id=account, owner_id=owner) == "fake-secret-value"
    with pytest.raises(VaultError):
        vault.decrypt(token, account_id=other, owner_id=owner)
    with pytest.raises(VaultError):
        vault.decrypt(token, account_id=account, owner_id=other)


def test_unknown_key_is_a_clear_error() -> None:
    token = Vault([Fernet.generate_key().decode()]).encrypt(
        "x", account_id=uuid4(), owner_id=uuid4()
    )
    with pytest.raises(VaultError, match="does not decrypt"):
        Vault([Fernet.generate_key().decode()]).decrypt(token, account_id=uuid4(), owner_id=uuid4())


def test_key_hint_shows_only_the_ends() -> None:
    assert key_hint("PKFAKEABCDEFGHIJ7Q2F") == "PK…7Q2F"  # pragma: allowlist secret


async def test_ciphertext_copied_into_another_row_fails(db: Database, known_secrets: set) -> None:
    """CRED-01: swapping encrypted columns between rows does not move a secret."""
    vault = Vault([Fernet.generate_key().decode()])
    alice = await make_user(db, "alice@example.com")
    first = await store_account(db, vault, alice, *_creds(known_secrets), nickname="One")
    second = await store_account(db, vault, alice, *_creds(known_secrets), nickname="Two")
    async with db.tenant(alice) as conn:
        stolen = await conn.fetchval(
            "select secret_encrypted from app.broker_accounts where id = $1", first.id
        )
        await conn.execute(
            "update app.broker_accounts set secret_encrypted = $2 where id = $1", second.id, stolen
        )
        copied = await conn.fetchval(
            "select secret_encrypted from app.broker_accounts where id = $1", second.id
        )
    with pytest.raises(VaultError):
        vault.decrypt(copied, account_id=second.id, owner_id=alice)


def _creds(known_secrets: set) -> tuple[str, str]:
    key_id, secret = fake_credentials()
    known_secrets.update({key_id, secret})
    return key_id, secret


async def _decrypt_all(db: Database, vault: Vault, users: list) -> list[str]:
    values = []
    for user in users:
        async with db.tenant(user) as conn:
            rows = await conn.fetch("select id, secret_encrypted from app.broker_accounts")
        values += [
            vault.decrypt(r["secret_encrypted"], account_id=r["id"], owner_id=user) for r in rows
        ]
    return sorted(values)


async def test_rotation_rewrites_everything_under_the_newest_key(
    db: Database, known_secrets: set
) -> None:
    """CRED-06: add key B, rotate, drop key A: everything still decrypts."""
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    vault_a = Vault([key_a])
    users = [await make_user(db, f"user{i}@example.com") for i in range(3)]
    stored = [
        await store_account(db, vault_a, user, *_creds(known_secrets), nickname=f"Acct {n}")
        for user in users
        for n in range(3)
    ]
    expected = sorted(a.secret_key for a in stored)

    both = Vault([key_b, key_a])
    assert await _decrypt_all(db, both, users) == expected
    batches: list[int] = []
    progress = await rotate_credentials(
        db, both, batch_size=4, on_batch=lambda p: batches.append(p.seen)
    )
    assert (progress.total, progress.rewritten, progress.seen) == (9, 9, 9)
    assert batches == [4, 8, 9]
    assert await _decrypt_all(db, Vault([key_b]), users) == expected


async def test_interrupted_rotation_finishes_when_run_again(
    db: Database, known_secrets: set
) -> None:
    """CRED-06: a rotation stopped after its first batch is finished by a rerun."""
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    user = await make_user(db, "solo@example.com")
    for n in range(5):
        await store_account(db, Vault([key_a]), user, *_creds(known_secrets), nickname=f"A{n}")
    both = Vault([key_b, key_a])

    def stop_after_first_batch(progress: RotationProgress) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await rotate_credentials(db, both, batch_size=2, on_batch=stop_after_first_batch)
    rerun = await rotate_credentials(db, both, batch_size=2)
    assert rerun.rewritten == 3
    assert len(await _decrypt_all(db, Vault([key_b]), [user])) == 5
