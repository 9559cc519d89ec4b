"""The whole account life cycle over GraphQL (ACCT-01..05, CRED-05), sandbox as broker."""

from __future__ import annotations

import asyncpg

from tests.fixtures.trading import ACCOUNT_FIELDS, ADD_ACCOUNT, Trader, code_of

ACCOUNTS = f"{{ accounts {{ {ACCOUNT_FIELDS} }} activeAccount {{ id nickname }} }}"


def _add(trader: Trader, nickname: str, environment: str, keys: dict) -> dict:
    return trader.call(
        ADD_ACCOUNT,
        {
            "input": {
                "nickname": nickname,
                "environment": environment,
                "apiKeyId": keys["api_key_id"],
                "secretKey": keys["secret_key"],
            }
        },
    )


async def test_add_verifies_keys_before_storing(make_trader, sandbox) -> None:
    """ACCT-01: good keys connect; bad, wrong-environment and unverifiable keys store nothing."""
    alice: Trader = make_trader("alice@example.com")
    keys = alice.mint("paper")

    wrong_secret = {**keys, "secret_key": keys["secret_key"][::-1]}
    result = _add(alice, "Main", "PAPER", wrong_secret)
    assert code_of(result) == "BAD_USER_INPUT"
    assert "rejected" in result["errors"][0]["message"].lower()

    result = _add(alice, "Main", "LIVE", keys)  # paper keys offered as live
    assert code_of(result) == "BAD_USER_INPUT"

    sandbox.set_faults(error_status=503, error_count=20)
    result = _add(alice, "Main", "PAPER", keys)
    assert code_of(result) == "BROKER_UNAVAILABLE"
    sandbox.clear_faults()
    assert alice.data(ACCOUNTS) == {"accounts": [], "activeAccount": None}

    account = alice.data(
        ADD_ACCOUNT,
        {
            "input": {
                "nickname": "  Main   paper ",
                "environment": "PAPER",
                "apiKeyId": keys["api_key_id"],
                "secretKey": keys["secret_key"],
            }
        },
    )["addAccount"]
    assert account["nickname"] == "Main paper"
    assert account["environment"] == "PAPER"
    assert account["isActive"] is True, "the first account becomes active"
    assert account["keyHint"] == f"{keys['api_key_id'][:2]}…{keys['api_key_id'][-4:]}"
    assert account["lastVerifiedAt"] is not None


async def test_nicknames_duplicates_and_second_accounts(make_trader) -> None:
    """CRED-05: several accounts of one environment; nicknames unique; no account twice."""
    alice: Trader = make_trader("alice@example.com")
    first = alice.add_account("Main")
    second = alice.add_account("Swing")
    assert second["isActive"] is False

    assert code_of(_add(alice, "main", "PAPER", alice.mint())) == "BAD_USER_INPUT"
    assert code_of(_add(alice, "", "PAPER", alice.mint())) == "BAD_USER_INPUT"
    assert code_of(_add(alice, "x" * 41, "PAPER", alice.mint())) == "BAD_USER_INPUT"
    duplicate = _add(alice, "Again", "PAPER", alice.keys[first["id"]])
    assert code_of(duplicate) == "BAD_USER_INPUT"
    assert "already connected" in duplicate["errors"][0]["message"]

    listed = alice.data(ACCOUNTS)
    assert [a["nickname"] for a in listed["accounts"]] == ["Main", "Swing"]
    assert listed["activeAccount"]["id"] == first["id"]

    renamed = alice.data(
        'mutation($id: UUID!) { renameAccount(id: $id, nickname: "Long term") { nickname } }',
        {"id": second["id"]},
    )
    assert renamed["renameAccount"]["nickname"] == "Long term"
    clash = alice.call(
        'mutation($id: UUID!) { renameAccount(id: $id, nickname: "MAIN") { nickname } }',
        {"id": second["id"]},
    )
    assert code_of(clash) == "BAD_USER_INPUT"
    assert clash["errors"][0]["extensions"]["field"] == "nickname"


async def test_switch_update_keys_and_remove(make_trader, trading_server) -> None:
    """ACCT-03, ACCT-04, ACCT-05: switching is stored server-side; removal deletes secrets."""
    alice: Trader = make_trader("alice@example.com")
    main = alice.add_account("Main")
    swing = alice.add_account("Swing")
    spare = alice.add_account("Spare")

    switched = alice.data(
        "mutation($id: UUID!) { setActiveAccount(id: $id) { id isActive } }", {"id": swing["id"]}
    )
    assert switched["setActiveAccount"] == {"id": swing["id"], "isActive": True}
    assert alice.data("{ activeAccount { id } }")["activeAccount"]["id"] == swing["id"]

    update = """mutation($id: UUID!, $k: String!, $s: String!) {
      updateAccountCredentials(id: $id, apiKeyId: $k, secretKey: $s) { id keyHint } }"""
    same = alice.keys[main["id"]]
    ok = alice.data(update, {"id": main["id"], "k": same["api_key_id"], "s": same["secret_key"]})
    assert ok["updateAccountCredentials"]["id"] == main["id"]
    other = alice.mint()
    refused = alice.call(
        update, {"id": main["id"], "k": other["api_key_id"], "s": other["secret_key"]}
    )
    assert code_of(refused) == "BAD_USER_INPUT"
    bad = alice.call(update, {"id": main["id"], "k": same["api_key_id"], "s": "wrong" * 8})
    assert code_of(bad) == "BAD_USER_INPUT"

    remove = "mutation($id: UUID!) { removeAccount(id: $id) }"
    assert alice.data(remove, {"id": spare["id"]}) == {"removeAccount": True}
    assert alice.data("{ activeAccount { id } }")["activeAccount"]["id"] == swing["id"]
    assert alice.data(remove, {"id": swing["id"]}) == {"removeAccount": True}
    assert alice.data("{ activeAccount { id } }")["activeAccount"]["id"] == main["id"]
    assert code_of(alice.call(remove, {"id": swing["id"]})) == "NOT_FOUND"

    owner = await asyncpg.connect(trading_server.database_url)
    try:
        stored = await owner.fetch(
            "select id from app.broker_accounts where id = any($1::uuid[])",
            [main["id"], swing["id"], spare["id"]],
        )
    finally:
        await owner.close()
    assert [str(r["id"]) for r in stored] == [main["id"]]
    assert alice.data(remove, {"id": main["id"]}) == {"removeAccount": True}
    assert alice.data(ACCOUNTS) == {"accounts": [], "activeAccount": None}
