"""TRADE-05: an order whose outcome was never recorded is settled from the broker's record.

The state a crash leaves behind: the process (or the database) died after a
confirmed proposal's order left, so its audit row stays ATTEMPTED and the
proposal CONFIRMED with no order id. It is made here as it would be left: the
proposal through GraphQL, the claim and the ATTEMPTED row as the database owner,
and the order, if it was placed, at the sandbox with the account's own keys
under the proposal's id. The running app settles it by itself.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from api.config import Settings
from tests.fixtures.inprocess import (
    AddedAccount,
    InProcessApp,
    SignedInUser,
    codes,
    inprocess_settings,
)
from tests.fixtures.sandbox import SandboxHandle

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""
ORDERS = """query($a: UUID) { orders(accountId: $a, status: ALL) { id clientOrderId } }"""
RECONCILE_SECONDS = 0.5


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path, sandbox: SandboxHandle) -> Settings:
    settings = inprocess_settings(database_url, tmp_path / "home", sandbox)
    return replace(settings, order_reconcile_seconds=RECONCILE_SECONDS)


async def _left_by_a_crash(
    app: InProcessApp, owner: asyncpg.Connection, *, placed: bool
) -> tuple[SignedInUser, AddedAccount, str, str | None]:
    """A live proposal claimed by confirmOrder whose placement never finished; with `placed`
    the broker took its order. Returns the user, the account, the proposal id, the order id."""
    user = await app.sign_up()
    account = await app.add_paper_account(user.token, environment="LIVE")
    order = {"accountId": account.id, "symbol": "AAPL", "side": "BUY", "qty": "1"}
    proposed = await app.gql(PLACE, {"input": order}, token=user.token)
    assert codes(proposed) == ["CONFIRMATION_REQUIRED"]
    proposal_id = proposed["errors"][0]["extensions"]["proposal"]["id"]
    body = {
        "symbol": "AAPL",
        "qty": "1",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "client_order_id": proposal_id,
    }
    await owner.execute(
        "update app.order_proposals set status = 'CONFIRMED' where id = $1", UUID(proposal_id)
    )
    await owner.execute(
        """insert into app.order_audit (owner_id, account_id, client_order_id, request, outcome,
                                        created_at, updated_at)
           values ($1, $2, $3, $4::jsonb, 'ATTEMPTED', now() - interval '5 minutes',
                   now() - interval '5 minutes')""",
        UUID(user.id),
        UUID(account.id),
        proposal_id,
        json.dumps(body),
    )
    order_id = await _place_at_the_broker(app, account, body) if placed else None
    return user, account, proposal_id, order_id


async def _place_at_the_broker(
    app: InProcessApp, account: AddedAccount, body: dict[str, Any]
) -> str:
    headers = {
        "APCA-API-KEY-ID": account.keys["api_key_id"],
        "APCA-API-SECRET-KEY": account.keys["secret_key"],
    }
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{app.sandbox.live_url}/v2/orders", json=body, headers=headers)
    answer.raise_for_status()
    order_id: str = answer.json()["id"]
    return order_id


async def _settled(owner: asyncpg.Connection, client_order_id: str) -> asyncpg.Record:
    """The audit row once it is no longer ATTEMPTED, and its proposal."""
    async with asyncio.timeout(10):
        while True:
            row = await owner.fetchrow(
                """select a.outcome, a.broker_order_id, p.status, p.broker_order_id as linked
                     from app.order_audit a join app.order_proposals p
                       on p.id = a.client_order_id::uuid
                    where a.client_order_id = $1""",
                client_order_id,
            )
            if row["outcome"] != "ATTEMPTED":
                return row
            await asyncio.sleep(0.1)


async def test_trade05_a_placed_order_left_attempted_is_recovered_and_linked(
    app: InProcessApp, owner: asyncpg.Connection
) -> None:
    """TRADE-05: the broker has the order: the row becomes RECOVERED with the broker's order id
    and the proposal names its order (before: ATTEMPTED and unlinked forever)."""
    user, account, proposal_id, order_id = await _left_by_a_crash(app, owner, placed=True)
    row = await _settled(owner, proposal_id)
    assert (row["outcome"], row["broker_order_id"]) == ("RECOVERED", order_id)
    assert (row["status"], row["linked"]) == ("CONFIRMED", order_id)
    orders = (await app.data(ORDERS, {"a": account.id}, token=user.token))["orders"]
    assert [o["id"] for o in orders] == [order_id]


async def test_trade05_an_order_never_placed_is_settled_and_its_proposal_released(
    app: InProcessApp, owner: asyncpg.Connection
) -> None:
    """TRADE-05: the broker has no order under the id: NOT_PLACED, and the proposal is PENDING
    again, as a failed confirmation leaves it; nothing is sent by the reconciler."""
    user, account, proposal_id, _ = await _left_by_a_crash(app, owner, placed=False)
    row = await _settled(owner, proposal_id)
    assert (row["outcome"], row["broker_order_id"]) == ("NOT_PLACED", None)
    assert (row["status"], row["linked"]) == ("PENDING", None)
    assert app.sandbox.stats()[account.keys["account_number"]]["orders"] == 0
    assert (await app.data(ORDERS, {"a": account.id}, token=user.token))["orders"] == []
