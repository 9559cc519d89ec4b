"""The admin domain in-process: users, setUserDisabled, invites, revokeInvite.

ADM-01: the first user is the admin; the directory shows people, never their keys or
what their accounts hold; FORBIDDEN for everyone else; disabling ends every session at
once, subscriptions included (AUTH-03), and refuses sign-in like a wrong password;
invites listed and revoked (a revoked invite admits nobody, AUTH-01).
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from api.auth.websockets import CLOSE_CODE_SESSION_ENDED
from tests.fixtures.inprocess import InProcessApp, SignedInUser, codes
from tests.fixtures.server import PASSWORD

ME = "{ me { email isAdmin } }"
USERS = "{ users { id email createdAt lastSeenAt accountCount isAdmin disabled disabledAt } }"
INVITES = "{ invites { id createdByEmail usedByEmail createdAt expiresAt usedAt status } }"
SET_DISABLED = "mutation($id: UUID!, $d: Boolean!) { setUserDisabled(id: $id, disabled: $d) }"
REVOKE = "mutation($id: UUID!) { revokeInvite(id: $id) }"
CREATE_INVITE = "mutation { createInvite { code } }"
SIGN_UP = """mutation($email: String!, $password: String!, $code: String) {
  signUp(email: $email, password: $password, inviteCode: $code) { token } }"""
SIGN_IN = """mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token } }"""
ACCOUNTS = "{ accounts { id nickname } }"
ORDERS = "query($a: UUID) { orders(accountId: $a, status: ALL) { id } }"
POSITIONS = "query($a: UUID) { positions(accountId: $a) { symbol } }"
SESSION_EVENTS = "subscription { sessionEvents { user { email } } }"


async def _admin_and_member(app: InProcessApp) -> tuple[SignedInUser, SignedInUser]:
    return await app.sign_up("admin@example.com"), await app.sign_up("member@example.com")


async def test_adm01_the_first_user_is_the_admin_and_nobody_else(app: InProcessApp) -> None:
    admin, member = await _admin_and_member(app)
    assert (await app.data(ME, token=admin.token))["me"]["isAdmin"] is True
    assert (await app.data(ME, token=member.token))["me"]["isAdmin"] is False


async def test_adm01_the_directory_lists_people_never_keys(app: InProcessApp) -> None:
    """Emails, dates and a count of accounts; the log audit and app.gql check no key leaves."""
    admin, member = await _admin_and_member(app)
    await app.add_paper_account(member.token, "Member's")
    users = (await app.data(USERS, token=admin.token))["users"]
    assert [(u["email"], u["isAdmin"], u["accountCount"], u["disabled"]) for u in users] == [
        ("admin@example.com", True, 0, False),
        ("member@example.com", False, 1, False),
    ]
    assert all(u["lastSeenAt"] is not None and u["disabledAt"] is None for u in users)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (USERS, None),
        (INVITES, None),
        (SET_DISABLED, {"id": str(uuid.uuid4()), "d": True}),
        (REVOKE, {"id": str(uuid.uuid4())}),
    ],
)
async def test_adm01_admin_operations_are_forbidden_to_others(
    app: InProcessApp, query: str, variables: dict[str, object] | None
) -> None:
    _, member = await _admin_and_member(app)
    refused = await app.gql(query, variables, token=member.token)
    assert codes(refused) == ["FORBIDDEN"] and refused["data"] is None
    assert codes(await app.gql(query, variables)) == ["UNAUTHENTICATED"]


async def test_adm01_a_member_cannot_disable_the_admin_even_with_the_right_id(
    app: InProcessApp,
) -> None:
    admin, member = await _admin_and_member(app)
    refused = await app.gql(SET_DISABLED, {"id": admin.id, "d": True}, token=member.token)
    assert codes(refused) == ["FORBIDDEN"]
    assert (await app.data(ME, token=admin.token))["me"]["email"] == admin.email


async def test_adm01_the_directory_functions_refuse_a_member_inside_the_database(
    app: InProcessApp,
) -> None:
    """The check is the database's too: a member calling the definer function directly."""
    _, member = await _admin_and_member(app)
    for call in (
        "select * from app.directory_users(10)",
        "select * from app.directory_invites(10)",
    ):
        with pytest.raises(asyncpg.RaiseError, match="admins only"):
            async with app.services.database.tenant(uuid.UUID(member.id)) as conn:
                await conn.fetch(call)


async def test_adm01_an_admin_cannot_read_another_users_accounts_or_orders(
    app: InProcessApp,
) -> None:
    """Row-level security applies to the admin as to anyone: a member's account id is
    NOT_FOUND to the admin, exactly like a missing one (ISO-02)."""
    admin, member = await _admin_and_member(app)
    theirs = await app.add_paper_account(
        member.token, "Member's", positions=[{"symbol": "TSLA", "qty": "3"}]
    )
    assert (await app.data(ACCOUNTS, token=admin.token))["accounts"] == []
    assert codes(await app.gql(ORDERS, {"a": theirs.id}, token=admin.token)) == ["NOT_FOUND"]
    assert codes(await app.gql(POSITIONS, {"a": theirs.id}, token=admin.token)) == ["NOT_FOUND"]
    async with app.services.database.tenant(uuid.UUID(admin.id)) as conn:
        assert await conn.fetch("select id from app.broker_accounts") == []
        assert (
            await conn.fetch("select id from app.users where id <> $1", uuid.UUID(admin.id)) == []
        )


async def test_adm01_disabling_ends_every_session_and_its_subscriptions_at_once(
    app: InProcessApp,
) -> None:
    admin, member = await _admin_and_member(app)
    other_device = await app.sign_in(member.email)
    async with app.subscription(SESSION_EVENTS, token=member.token) as events:
        assert (await events.next()).errors is None
        assert await app.data(SET_DISABLED, {"id": member.id, "d": True}, token=admin.token) == {
            "setUserDisabled": True
        }
        assert events.close_code == CLOSE_CODE_SESSION_ENDED
    for token in (member.token, other_device.token):
        assert await app.gql(ME, token=token) == {"data": {"me": None}}
        assert codes(await app.gql(ACCOUNTS, token=token)) == ["UNAUTHENTICATED"]
    [row] = [u for u in (await app.data(USERS, token=admin.token))["users"] if u["id"] == member.id]
    assert row["disabled"] is True and row["disabledAt"] is not None


async def test_adm01_a_disabled_user_is_refused_sign_in_like_a_wrong_password(
    app: InProcessApp,
) -> None:
    admin, member = await _admin_and_member(app)
    await app.data(SET_DISABLED, {"id": member.id, "d": True}, token=admin.token)
    disabled = await app.gql(SIGN_IN, {"email": member.email, "password": PASSWORD})
    wrong = await app.gql(SIGN_IN, {"email": admin.email, "password": "wrong password!"})
    assert codes(disabled) == codes(wrong) == ["UNAUTHENTICATED"]
    assert disabled["errors"][0]["message"] == wrong["errors"][0]["message"]

    await app.data(SET_DISABLED, {"id": member.id, "d": False}, token=admin.token)
    again = await app.sign_in(member.email)
    assert (await app.data(ME, token=again.token))["me"]["email"] == member.email


async def test_adm01_the_last_admin_cannot_disable_themselves(app: InProcessApp) -> None:
    admin, _ = await _admin_and_member(app)
    refused = await app.gql(SET_DISABLED, {"id": admin.id, "d": True}, token=admin.token)
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert (await app.data(ME, token=admin.token))["me"]["isAdmin"] is True
    missing = await app.gql(SET_DISABLED, {"id": str(uuid.uuid4()), "d": True}, token=admin.token)
    assert codes(missing) == ["NOT_FOUND"]


async def test_adm01_invites_are_listed_with_their_makers_and_a_pending_one_revoked(
    app: InProcessApp,
) -> None:
    admin, member = await _admin_and_member(app)  # the member spent the admin's invite
    pending = (await app.data(CREATE_INVITE, token=member.token))["createInvite"]["code"]
    invites = (await app.data(INVITES, token=admin.token))["invites"]
    assert [(i["createdByEmail"], i["usedByEmail"], i["status"]) for i in invites] == [
        ("member@example.com", None, "PENDING"),
        ("admin@example.com", "member@example.com", "USED"),
    ]
    assert "code" not in str(invites) and pending not in str(invites)

    newest, used = invites
    assert await app.data(REVOKE, {"id": newest["id"]}, token=admin.token) == {"revokeInvite": True}
    refused = await app.gql(
        SIGN_UP, {"email": "late@example.com", "password": PASSWORD, "code": pending}
    )
    assert codes(refused) == ["BAD_USER_INPUT"]
    statuses = [i["status"] for i in (await app.data(INVITES, token=admin.token))["invites"]]
    assert statuses == ["REVOKED", "USED"]
    for spent in (newest, used):
        assert codes(await app.gql(REVOKE, {"id": spent["id"]}, token=admin.token)) == [
            "BAD_USER_INPUT"
        ]
    assert codes(await app.gql(REVOKE, {"id": str(uuid.uuid4())}, token=admin.token)) == [
        "NOT_FOUND"
    ]
