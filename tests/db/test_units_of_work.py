"""CRED-04: table querysets run only inside a unit of work, on its connection, as its user.

`Database.tenant(user_id)` is the one way to act as a user: Piccolo querysets
and raw SQL inside it share one transaction on one connection; outside any
unit of work a queryset raises; units of work never nest, so nothing ever
joins another tenant's transaction.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
from cryptography.fernet import Fernet

from api.db import Database
from api.db.engine import NestedUnitOfWork, OutsideUnitOfWork
from api.db.tables import BrokerAccount, ChatMessage, User
from api.vault import Vault
from tests.fixtures.tenants import fake_credentials, make_user, store_account


async def _user_with_account(db: Database, email: str, nickname: str) -> tuple[UUID, UUID]:
    user = await make_user(db, email)
    vault = Vault([Fernet.generate_key().decode()])
    account = await store_account(db, vault, user, *fake_credentials(), nickname=nickname)
    return user, account.id


async def test_a_queryset_outside_a_unit_of_work_raises(db: Database) -> None:
    """CRED-04: no identity, no query: never an empty answer, never a pool connection."""
    await _user_with_account(db, "alice@example.com", "Alice")
    with pytest.raises(OutsideUnitOfWork):
        await BrokerAccount.select(BrokerAccount.id)
    with pytest.raises(OutsideUnitOfWork):
        await BrokerAccount.count()


async def test_querysets_and_sql_share_the_tenant_transaction(db: Database) -> None:
    """CRED-04: a row written with SQL is read by a queryset before commit, and a
    rollback takes both back."""
    alice, account = await _user_with_account(db, "alice@example.com", "Alice")

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.tenant(alice) as conn:
            await conn.execute(
                "insert into app.chat_messages (owner_id, account_id, role, content)"
                " values ($1, $2, 'USER', 'draft')",
                alice,
                account,
            )
            assert await ChatMessage.select(ChatMessage.content) == [{"content": "draft"}]
            assert await User.select(User.id) == [{"id": alice}]
            raise Undo
    async with db.tenant(alice):
        assert await ChatMessage.count() == 0


async def test_units_of_work_do_not_nest(db: Database) -> None:
    """CRED-04: a tenant scope inside another (any user) is refused, not joined."""
    alice, _ = await _user_with_account(db, "alice@example.com", "Alice")
    bob, _ = await _user_with_account(db, "bob@example.com", "Bob")
    async with db.tenant(alice):
        for inner in (db.tenant(bob), db.tenant(alice), db.anonymous(), db.as_operator()):
            with pytest.raises(NestedUnitOfWork):
                async with inner:
                    pass
        # a task started inside the scope inherits it: it cannot act as anyone else either
        with pytest.raises(NestedUnitOfWork):
            await asyncio.create_task(_nickname(db, bob))
        assert await BrokerAccount.select(BrokerAccount.nickname) == [{"nickname": "Alice"}]


async def _nickname(db: Database, user: UUID) -> list[str]:
    async with db.tenant(user):
        return [r["nickname"] for r in await BrokerAccount.select(BrokerAccount.nickname)]


async def test_two_users_interleaved_never_see_each_other(db: Database) -> None:
    """CRED-04: two units of work for two users, interleaved step by step on one event
    loop, each see only their own rows through querysets and SQL alike."""
    users = [
        await _user_with_account(db, "alice@example.com", "Alice"),
        await _user_with_account(db, "bob@example.com", "Bob"),
    ]
    turn = asyncio.Condition()
    step = 0
    seen: dict[UUID, list[object]] = {}

    async def wait_for(mine: int) -> None:
        nonlocal step
        async with turn:
            await turn.wait_for(lambda: step == mine)

    async def done() -> None:
        nonlocal step
        async with turn:
            step += 1
            turn.notify_all()

    async def work(index: int, user: UUID, account: UUID) -> None:
        async with db.tenant(user) as conn:
            for round_ in range(3):
                await wait_for(2 * round_ + index)
                await conn.execute(
                    "insert into app.chat_messages (owner_id, account_id, role, content)"
                    " values ($1, $2, 'USER', $3)",
                    user,
                    account,
                    f"{index}-{round_}",
                )
                rows = await ChatMessage.select(ChatMessage.owner_id, ChatMessage.content)
                seen.setdefault(user, []).append(
                    (
                        {r["owner_id"] for r in rows},
                        sorted(r["content"] for r in rows),
                        await conn.fetchval("select count(*) from app.broker_accounts"),
                    )
                )
                await done()

    await asyncio.gather(*(work(i, user, account) for i, (user, account) in enumerate(users)))
    for index, (user, _) in enumerate(users):
        assert seen[user] == [
            ({user}, [f"{index}-{r}" for r in range(round_ + 1)], 1) for round_ in range(3)
        ]
