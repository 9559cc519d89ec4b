"""ISO-01 for user data: nobody reads another user's email, sessions or invites."""

from __future__ import annotations

import json

from api.db import Database
from tests.fixtures.server import RunningServer, signed_up_user, unique_email
from tests.fixtures.tenants import make_user


def test_user_b_sees_only_itself_through_graphql_ISO_01(server: RunningServer) -> None:
    alice, bob = unique_email("alice"), unique_email("bob")
    token_a = signed_up_user(server, alice)
    token_b = signed_up_user(server, bob)
    server.gql("mutation { createInvite { code } }", token=token_a)
    me_b = server.gql("{ me { id email createdAt } }", token=token_b)
    assert me_b["data"]["me"]["email"] == bob
    assert "alice" not in json.dumps(me_b)
    assert "inviter" not in json.dumps(me_b)  # nor the server's first user
    # the auth domain has no query that takes a user or session id: `me` is the only door
    types = server.gql("{ __schema { queryType { fields { name args { name } } } } }")
    auth_fields = {f["name"]: f["args"] for f in types["data"]["__schema"]["queryType"]["fields"]}
    assert auth_fields["me"] == []


async def test_tenant_scope_hides_other_users_rows_ISO_01(db: Database) -> None:
    alice = await make_user(db, "alice@example.com")
    bob = await make_user(db, "bob@example.com")
    async with db.tenant(alice) as conn:
        await conn.execute(
            "insert into app.sessions (user_id, token_hash, expires_at)"
            " values ($1, '\\x01', now() + interval '1 day')",
            alice,
        )
        await conn.execute(
            "insert into app.invites (created_by, code_hash, expires_at)"
            " values ($1, '\\x02', now() + interval '1 day')",
            alice,
        )
    async with db.tenant(bob) as conn:
        users = await conn.fetch("select id, email from app.users")
        assert [(r["id"], r["email"]) for r in users] == [(bob, "bob@example.com")]
        assert await conn.fetch("select id from app.sessions") == []
        assert await conn.fetch("select id from app.invites") == []
        assert (
            await conn.fetchval("select count(*) from app.sessions where user_id = $1", alice) == 0
        )
        # nor can B write rows in A's name
        status = await conn.execute(
            "update app.sessions set revoked_at = now() where user_id = $1", alice
        )
        assert status == "UPDATE 0"
    async with db.tenant(alice) as conn:
        assert len(await conn.fetch("select id from app.sessions")) == 1
        assert len(await conn.fetch("select id from app.invites")) == 1
