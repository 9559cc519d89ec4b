"""The accounts domain in-process: every query and mutation of schema/accounts.

ACCT-01..05 (add, list, switch, replace keys, remove), DISP-01 and DISP-03
(type and buying power), ISO-01 (someone else's account id is NOT_FOUND).
"""

from __future__ import annotations

from typing import Any

from tests.fixtures.inprocess import InProcessApp, SignedInUser, codes

ACCOUNTS = "{ accounts { id nickname environment keyHint isActive chatAutoExecute } }"
ACTIVE_ACCOUNT = "{ activeAccount { id nickname } }"
ACCOUNT = """query($id: UUID!) {
  account(id: $id) { id environment snapshot { cash buyingPower currency } } }"""
ADD = """mutation($input: AddAccountInput!) {
  addAccount(input: $input) { id nickname isActive } }"""
UPDATE_CREDENTIALS = """mutation($id: UUID!, $k: String!, $s: String!) {
  updateAccountCredentials(id: $id, apiKeyId: $k, secretKey: $s) { id keyHint } }"""
RENAME = "mutation($id: UUID!, $n: String!) { renameAccount(id: $id, nickname: $n) { nickname } }"
REMOVE = "mutation($id: UUID!) { removeAccount(id: $id) }"
SET_ACTIVE = "mutation($id: UUID!) { setActiveAccount(id: $id) { id isActive } }"
CONTROLS = "{ accounts { id halted limits { maxOrdersPerDay } } }"
HALT = "mutation($a: UUID!) { haltAccount(accountId: $a) { id } }"
SET_LIMITS = """mutation($a: UUID!, $i: AccountLimitsInput!) {
  setAccountLimits(accountId: $a, input: $i) { id } }"""
SET_CHAT_AUTO_EXECUTE = """mutation($id: UUID!, $on: Boolean!) {
  setChatAutoExecute(id: $id, enabled: $on) { id chatAutoExecute } }"""


def _input(keys: dict[str, str], nickname: str = "Main", environment: str = "PAPER") -> Any:
    return {
        "input": {
            "nickname": nickname,
            "environment": environment,
            "apiKeyId": keys["api_key_id"],
            "secretKey": keys["secret_key"],
        }
    }


async def _two_users(app: InProcessApp) -> tuple[SignedInUser, SignedInUser]:
    return await app.sign_up(), await app.sign_up()


async def test_acct01_add_account_verifies_the_keys_and_the_first_becomes_active(
    app: InProcessApp,
) -> None:
    alice = await app.sign_up()
    keys = await app.mint()
    added = (await app.data(ADD, _input(keys), token=alice.token))["addAccount"]
    assert added["nickname"] == "Main" and added["isActive"] is True

    wrong = {**keys, "secret_key": "fake-wrong-secret-" + "0" * 20}
    refused = await app.gql(ADD, _input(wrong, "Other"), token=alice.token)
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert codes(await app.gql(ADD, _input(keys, "Main"))) == ["UNAUTHENTICATED"]


async def test_acct02_accounts_lists_only_mine(app: InProcessApp) -> None:
    alice, bob = await _two_users(app)
    mine = await app.add_paper_account(alice.token)
    await app.add_paper_account(bob.token, "Bob's")
    listed = (await app.data(ACCOUNTS, token=alice.token))["accounts"]
    assert [(a["id"], a["environment"], a["isActive"]) for a in listed] == [
        (mine.id, "PAPER", True)
    ]
    assert listed[0]["keyHint"].startswith("PK") and listed[0]["chatAutoExecute"] is False
    assert codes(await app.gql(ACCOUNTS)) == ["UNAUTHENTICATED"]


async def test_risk01_risk04_each_listed_account_shows_its_own_halt_and_limits(
    app: InProcessApp,
) -> None:
    """RISK-01, RISK-04: the accounts of one list are read together (one transaction per
    owner), and each still answers its own halt and limits, never a neighbour's."""
    alice, bob = await _two_users(app)
    first, second, third = [await app.add_paper_account(alice.token, f"A{i}") for i in range(3)]
    theirs = await app.add_paper_account(bob.token)
    await app.data(HALT, {"a": second.id}, token=alice.token)
    await app.data(SET_LIMITS, {"a": third.id, "i": {"maxOrdersPerDay": 7}}, token=alice.token)
    await app.data(HALT, {"a": theirs.id}, token=bob.token)
    listed = (await app.data(CONTROLS, token=alice.token))["accounts"]
    assert {a["id"]: (a["halted"], a["limits"]["maxOrdersPerDay"]) for a in listed} == {
        first.id: (False, None),
        second.id: (True, None),
        third.id: (False, 7),
    }


async def test_active_account_is_null_until_one_is_added(app: InProcessApp) -> None:
    alice = await app.sign_up()
    assert await app.data(ACTIVE_ACCOUNT, token=alice.token) == {"activeAccount": None}
    added = await app.add_paper_account(alice.token)
    active = (await app.data(ACTIVE_ACCOUNT, token=alice.token))["activeAccount"]
    assert active == {"id": added.id, "nickname": "Main"}
    assert codes(await app.gql(ACTIVE_ACCOUNT)) == ["UNAUTHENTICATED"]


async def test_disp03_account_reads_the_snapshot_and_iso01_refuses_someone_elses(
    app: InProcessApp,
) -> None:
    alice, bob = await _two_users(app)
    added = await app.add_paper_account(alice.token, cash="25000")
    account = (await app.data(ACCOUNT, {"id": added.id}, token=alice.token))["account"]
    assert account["environment"] == "PAPER"
    assert account["snapshot"]["cash"] == "25000.00" and account["snapshot"]["currency"] == "USD"
    assert account["snapshot"]["buyingPower"]
    assert codes(await app.gql(ACCOUNT, {"id": added.id}, token=bob.token)) == ["NOT_FOUND"]


async def test_acct04_update_credentials_needs_keys_of_the_same_account(
    app: InProcessApp,
) -> None:
    alice, bob = await _two_users(app)
    added = await app.add_paper_account(alice.token)
    same = {"id": added.id, "k": added.keys["api_key_id"], "s": added.keys["secret_key"]}
    updated = await app.data(UPDATE_CREDENTIALS, same, token=alice.token)
    assert updated["updateAccountCredentials"]["id"] == added.id

    other = await app.mint()
    different = {"id": added.id, "k": other["api_key_id"], "s": other["secret_key"]}
    assert codes(await app.gql(UPDATE_CREDENTIALS, different, token=alice.token)) == [
        "BAD_USER_INPUT"
    ]
    assert codes(await app.gql(UPDATE_CREDENTIALS, same, token=bob.token)) == ["NOT_FOUND"]


async def test_rename_account_checks_the_nickname_and_the_owner(app: InProcessApp) -> None:
    alice, bob = await _two_users(app)
    added = await app.add_paper_account(alice.token)
    renamed = await app.data(RENAME, {"id": added.id, "n": "Swing"}, token=alice.token)
    assert renamed == {"renameAccount": {"nickname": "Swing"}}
    empty = await app.gql(RENAME, {"id": added.id, "n": ""}, token=alice.token)
    assert codes(empty) == ["BAD_USER_INPUT"]
    stolen = await app.gql(RENAME, {"id": added.id, "n": "Mine"}, token=bob.token)
    assert codes(stolen) == ["NOT_FOUND"]


async def test_acct05_remove_account_forgets_it_once(app: InProcessApp) -> None:
    alice, bob = await _two_users(app)
    added = await app.add_paper_account(alice.token)
    assert codes(await app.gql(REMOVE, {"id": added.id}, token=bob.token)) == ["NOT_FOUND"]
    assert await app.data(REMOVE, {"id": added.id}, token=alice.token) == {"removeAccount": True}
    assert await app.data(ACCOUNTS, token=alice.token) == {"accounts": []}
    assert codes(await app.gql(REMOVE, {"id": added.id}, token=alice.token)) == ["NOT_FOUND"]


async def test_acct03_set_active_account_switches_for_every_device(app: InProcessApp) -> None:
    alice, bob = await _two_users(app)
    await app.add_paper_account(alice.token, "Main")
    swing = await app.add_paper_account(alice.token, "Swing")
    switched = await app.data(SET_ACTIVE, {"id": swing.id}, token=alice.token)
    assert switched == {"setActiveAccount": {"id": swing.id, "isActive": True}}
    active = (await app.data(ACTIVE_ACCOUNT, token=alice.token))["activeAccount"]
    assert active["id"] == swing.id
    assert codes(await app.gql(SET_ACTIVE, {"id": swing.id}, token=bob.token)) == ["NOT_FOUND"]


async def test_chat_auto_execute_is_for_paper_accounts_only(app: InProcessApp) -> None:
    alice, bob = await _two_users(app)
    paper = await app.add_paper_account(alice.token)
    live = await app.add_paper_account(alice.token, "Live", "LIVE")
    on = await app.data(SET_CHAT_AUTO_EXECUTE, {"id": paper.id, "on": True}, token=alice.token)
    assert on == {"setChatAutoExecute": {"id": paper.id, "chatAutoExecute": True}}
    refused = await app.gql(SET_CHAT_AUTO_EXECUTE, {"id": live.id, "on": True}, token=alice.token)
    assert codes(refused) == ["BAD_USER_INPUT"]
    stolen = await app.gql(SET_CHAT_AUTO_EXECUTE, {"id": paper.id, "on": False}, token=bob.token)
    assert codes(stolen) == ["NOT_FOUND"]
