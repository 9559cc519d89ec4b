"""CRED-04: PostgreSQL itself keeps every user to their own rows.

These tests act as the runtime role exactly as the server does (the `db`
fixture is the server's pool) and prove that another tenant's rows are
invisible and untouchable, whatever the query says.
"""

from __future__ import annotations

import secrets

import asyncpg
import pytest
from cryptography.fernet import Fernet

from api.db import Database
from api.db.database import RUNTIME_ROLE
from api.vault import Vault
from tests.fixtures.postgres import runtime_database_url
from tests.fixtures.tenants import fake_credentials, make_user, store_account

TENANT_TABLES = {
    "users": "id",
    "sessions": "user_id",
    "invites": "created_by",
    "broker_accounts": "owner_id",
    "chat_messages": "owner_id",
    "order_proposals": "owner_id",
    "order_audit": "owner_id",
    "account_limits": "owner_id",
    "guard_audit": "owner_id",
    "push_subscriptions": "owner_id",
    "notification_settings": "owner_id",
    "push_deliveries": "owner_id",
    "stream_marks": "owner_id",
    "passkeys": "owner_id",
    "passkey_challenges": "owner_id",
    "security_events": "user_id",
}
# Tables no tenant owns: only definer functions reach them, the runtime role not at all.
DEFINER_ONLY_TABLES = {"passkey_sign_in_challenges", "auth_attempts"}


async def _two_tenants(db: Database) -> tuple:
    vault = Vault([Fernet.generate_key().decode()])
    alice = await make_user(db, "alice@example.com")
    bob = await make_user(db, "bob@example.com")
    accounts = {}
    for user, name in ((alice, "Alice"), (bob, "Bob")):
        account = await store_account(db, vault, user, *fake_credentials(), nickname=name)
        accounts[user] = account.id
        async with db.tenant(user) as conn:
            await conn.execute(
                "insert into app.sessions (user_id, token_hash, expires_at)"
                " values ($1, $2, now() + interval '1 day')",
                user,
                secrets.token_bytes(32),
            )
            await conn.execute(
                "insert into app.invites (created_by, code_hash, expires_at)"
                " values ($1, $2, now() + interval '1 day')",
                user,
                secrets.token_bytes(32),
            )
            await conn.execute(
                "insert into app.chat_messages (owner_id, account_id, role, content)"
                " values ($1, $2, 'USER', 'hello')",
                user,
                account.id,
            )
            await conn.execute(
                "insert into app.order_proposals (owner_id, account_id, request, summary,"
                " estimated_cost, expires_at) values ($1, $2, '{}', 'Buy 1 AAPL', 190,"
                " now() + interval '2 minutes')",
                user,
                account.id,
            )
            await conn.execute(
                "insert into app.order_audit (owner_id, account_id, client_order_id, request)"
                " values ($1, $2, $3, '{}')",
                user,
                account.id,
                f"coid-{user}",
            )
            await conn.execute(
                "insert into app.account_limits (account_id, owner_id, max_orders_per_day)"
                " values ($1, $2, 5)",
                account.id,
                user,
            )
            await conn.execute(
                "insert into app.guard_audit (owner_id, account_id, event, source)"
                " values ($1, $2, 'HALTED', 'owner')",
                user,
                account.id,
            )
            subscription = await conn.fetchval(
                "insert into app.push_subscriptions (owner_id, endpoint, p256dh, auth)"
                " values ($1, $2, 'fake-p256dh', 'fake-auth') returning id",
                user,
                f"https://fcm.googleapis.com/fcm/send/fake-{user}",
            )
            await conn.execute(
                "insert into app.notification_settings (owner_id, hide_amounts) values ($1, true)",
                user,
            )
            await conn.execute(
                "insert into app.push_deliveries (owner_id, subscription_id, event_id, kind)"
                " values ($1, $2, 'fake-event', 'fill')",
                user,
                subscription,
            )
            await conn.execute(
                "insert into app.stream_marks (account_id, owner_id, reported_through)"
                " values ($1, $2, now())",
                account.id,
                user,
            )
            await conn.execute(
                "insert into app.passkeys (owner_id, credential_id, public_key, name)"
                " values ($1, $2, $3, 'Phone')",
                user,
                secrets.token_bytes(16),
                secrets.token_bytes(77),
            )
            await conn.execute(
                "insert into app.passkey_challenges (owner_id, purpose, challenge, expires_at)"
                " values ($1, 'REGISTER', $2, now() + interval '5 minutes')",
                user,
                secrets.token_bytes(32),
            )
            await conn.execute(
                "insert into app.security_events (user_id, kind) values ($1, 'SIGNED_IN')", user
            )
    return alice, bob, accounts


async def test_each_user_sees_only_their_own_rows(db: Database) -> None:
    """CRED-04: with user A set, every tenant table shows A's rows only."""
    alice, bob, _ = await _two_tenants(db)
    for user in (alice, bob):
        async with db.tenant(user) as conn:
            for table, column in TENANT_TABLES.items():
                owners = {r[0] for r in await conn.fetch(f"select {column} from app.{table}")}
                assert owners == {user}, table


async def test_no_user_set_means_no_rows(db: Database) -> None:
    """CRED-04: a transaction that never set app.user_id sees nothing."""
    await _two_tenants(db)
    async with db.anonymous() as conn:
        for table, column in TENANT_TABLES.items():
            assert await conn.fetch(f"select {column} from app.{table}") == [], table


class _Failed(Exception):
    pass


async def test_setting_does_not_outlive_its_transaction(db: Database, database_url: str) -> None:
    """CRED-04: a pooled connection never carries a tenant into the next unit of work.

    The pool holds one connection, so every unit of work below provably runs on
    the connection the previous one used, after it committed or rolled back.
    """
    alice, bob, _ = await _two_tenants(db)
    single = Database(database_url, runtime_database_url(database_url))
    await single.connect(min_size=1, max_size=1)
    try:
        async with single.tenant(alice) as conn:
            backend = await conn.fetchval("select pg_backend_pid()")
            assert await conn.fetchval("select app.current_user_id()") == alice
        async with single.anonymous() as conn:
            assert await conn.fetchval("select pg_backend_pid()") == backend
            assert await conn.fetchval("select app.current_user_id()") is None
            assert await conn.fetch("select id from app.users") == []
        with pytest.raises(_Failed):
            async with single.tenant(alice) as conn:
                raise _Failed
        async with single.tenant(bob) as conn:
            assert await conn.fetchval("select pg_backend_pid()") == backend
            assert [r[0] for r in await conn.fetch("select id from app.users")] == [bob]
    finally:
        await single.close()


async def test_writing_as_another_user_is_refused(db: Database) -> None:
    """CRED-04: A cannot insert B's rows; updates and deletes of B's rows change nothing."""
    alice, bob, accounts = await _two_tenants(db)
    async with db.tenant(alice) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "insert into app.chat_messages (owner_id, account_id, role, content)"
                " values ($1, $2, 'USER', 'spoofed')",
                bob,
                accounts[bob],
            )
    async with db.tenant(alice) as conn:
        assert (
            await conn.execute(
                "update app.broker_accounts set nickname = 'owned' where id = $1", accounts[bob]
            )
            == "UPDATE 0"
        )
        assert await conn.execute("delete from app.chat_messages where owner_id = $1", bob) == (
            "DELETE 0"
        )
        assert await conn.execute("update app.users set active_account_id = null") == "UPDATE 1"
    async with db.tenant(bob) as conn:
        assert await conn.fetchval("select nickname from app.broker_accounts") == "Bob"
        assert await conn.fetchval("select count(*) from app.chat_messages") == 1


async def test_a_row_cannot_point_at_another_users_account(db: Database) -> None:
    """CRED-04: foreign keys on (account, owner) stop a row naming someone else's account."""
    alice, bob, accounts = await _two_tenants(db)
    async with db.tenant(alice) as conn:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute(
                "insert into app.chat_messages (owner_id, account_id, role, content)"
                " values ($1, $2, 'USER', 'x')",
                alice,
                accounts[bob],
            )
    async with db.tenant(alice) as conn:
        await conn.execute("update app.users set active_account_id = $1", accounts[bob])
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute("set constraints all immediate")


async def test_runtime_role_is_unprivileged(db: Database, owner: asyncpg.Connection) -> None:
    """CRED-04: the runtime role is no superuser, has no BYPASSRLS and owns nothing."""
    user = await make_user(db, "x@example.com")
    async with db.tenant(user) as conn:
        assert await conn.fetchval("select current_user") == RUNTIME_ROLE
    for hidden in ("password_hash from app.users", "token_hash from app.sessions"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with db.tenant(user) as conn:
                await conn.fetch(f"select {hidden}")
    role = await owner.fetchrow(
        "select rolsuper, rolbypassrls from pg_roles where rolname = $1", RUNTIME_ROLE
    )
    assert (role["rolsuper"], role["rolbypassrls"]) == (False, False)
    owned = await owner.fetchval(
        "select count(*) from pg_class c join pg_roles r on r.oid = c.relowner"
        " where r.rolname like 'alpaca_chat_%'"
    )
    assert owned == 0


async def test_every_table_has_forced_rls_and_a_policy(owner: asyncpg.Connection) -> None:
    """CRED-04: fails as soon as any table in the app schema lacks RLS or a policy."""
    rows = await owner.fetch(
        """select c.relname, c.relrowsecurity, c.relforcerowsecurity,
                  (select count(*) from pg_policy p where p.polrelid = c.oid) as policies
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'app' and c.relkind in ('r', 'p')"""
    )
    assert {r["relname"] for r in rows} == set(TENANT_TABLES) | DEFINER_ONLY_TABLES
    for row in rows:
        assert row["relrowsecurity"] and row["relforcerowsecurity"], row["relname"]
        assert row["policies"] >= 1, row["relname"]


async def test_definer_only_tables_are_closed_to_the_runtime_role(db: Database) -> None:
    """CRED-04, KEY-01: sign-in challenges belong to no one; only definer functions reach them."""
    async with db.anonymous() as conn:
        await conn.execute(
            "select app.passkey_sign_in_challenge($1, interval '5 minutes')",
            secrets.token_bytes(32),
        )
    for table in DEFINER_ONLY_TABLES:
        async with db.anonymous() as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"select * from app.{table}")


async def test_reset_role_on_a_request_connection_gains_nothing_CRED_04(
    db: Database, owner: asyncpg.Connection
) -> None:
    """CRED-04: requests log in as the runtime role itself, never as the owner switched to
    it, so RESET ROLE keeps the runtime role: no owner's rights, and RLS still holds."""
    alice, _, accounts = await _two_tenants(db)
    owner_role = await owner.fetchval("select current_user")
    async with db.pool.acquire() as conn:
        await conn.execute("reset role")
        assert await conn.fetchval("select current_user") == RUNTIME_ROLE
        assert await conn.fetchval("select session_user") == RUNTIME_ROLE
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f'set role "{owner_role}"')
        assert await conn.fetch("select id from app.broker_accounts") == []
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("select password_hash from app.users")
        async with conn.transaction():
            await conn.execute("select set_config('app.user_id', $1, true)", str(alice))
            rows = await conn.fetch("select id from app.broker_accounts")
        assert [r["id"] for r in rows] == [accounts[alice]]
