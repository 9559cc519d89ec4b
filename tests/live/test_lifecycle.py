"""Subscriptions end with the account or the session (ACCT-05, AUTH-03)."""

from __future__ import annotations

import time

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import GraphQLWebSocket
from tests.live.conftest import (
    ACCOUNT_UPDATES,
    REMOVE_ACCOUNT,
    SIGN_OUT,
    next_update,
    stream_connections,
    wait_until,
)


async def test_acct05_removing_the_account_ends_its_subscription_within_a_second(
    make_trader, sandbox: SandboxHandle
) -> None:
    """ACCT-05: removeAccount completes the open accountUpdates operation within a second,
    and the account's broker stream closes."""
    trader = make_trader("acct05@example.com")
    account = trader.add_account("Main")
    number = trader.keys[account["id"]]["account_number"]
    async with GraphQLWebSocket.connect(trader.server, token=trader.token) as ws:
        operation = await ws.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
        assert (await next_update(ws))["__typename"] == "SnapshotEvent"
        await wait_until(lambda: stream_connections(sandbox, number) == 1)

        started = time.monotonic()
        removed = await trader.server.agql(
            REMOVE_ACCOUNT, {"id": account["id"]}, token=trader.token
        )
        assert "errors" not in removed, removed
        while True:
            message = await ws.receive(1.5)
            if message["type"] == "complete":
                break
            # a snapshot published just before the removal may still arrive first
            assert message["type"] == "next" and "errors" not in message["payload"], message
        assert message["id"] == operation
        assert time.monotonic() - started < 1.0
        await wait_until(lambda: stream_connections(sandbox, number) == 0, seconds=5)


async def test_auth03_sign_out_ends_the_subscription_within_a_second(make_trader) -> None:
    """AUTH-03: signing out with the session that opened accountUpdates closes it (4401)
    within a second."""
    trader = make_trader("auth03@example.com")
    account = trader.add_account("Main")
    async with GraphQLWebSocket.connect(trader.server, token=trader.token) as ws:
        await ws.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
        assert (await next_update(ws))["__typename"] == "SnapshotEvent"
        started = time.monotonic()
        signed_out = await trader.server.agql(SIGN_OUT, token=trader.token)
        assert "errors" not in signed_out, signed_out
        code = await ws.wait_closed(1.5)
        assert time.monotonic() - started < 1.0
        assert code == 4401
