"""Subscription events reach only the account's owner (ISO-03)."""

from __future__ import annotations

import asyncio
import uuid

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import GraphQLWebSocket
from tests.fixtures.trading import PLACE_ORDER
from tests.live.conftest import (
    ACCOUNT_UPDATES,
    ACTIVE_ACCOUNT_CHANGED,
    SET_ACTIVE,
    drain,
    market_buy,
    next_update,
    order_event,
    stream_connections,
    updates_until,
    wait_until,
)


async def refused(ws: GraphQLWebSocket, variables: dict[str, str]) -> list[dict]:
    """Subscribe, and return the messages up to the end of that operation."""
    operation = await ws.subscribe(ACCOUNT_UPDATES, variables)
    messages = []
    while True:
        message = await ws.receive(5)
        assert message.get("id") == operation, message
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages
        if message["type"] == "next" and message["payload"].get("errors"):
            continue
        raise AssertionError(f"a refused subscription yielded data: {message}")


def codes(messages: list[dict]) -> list[str]:
    found = []
    for message in messages:
        payload = message.get("payload")
        errors = payload if isinstance(payload, list) else (payload or {}).get("errors") or []
        found.extend(e.get("extensions", {}).get("code") for e in errors)
    return found


async def test_iso03_someone_elses_account_or_a_made_up_id_is_not_found(make_trader) -> None:
    """ISO-03: B subscribing to A's account id, or to an id that does not exist, gets
    NOT_FOUND and the operation ends; the connection stays usable."""
    alice = make_trader("iso03-a@example.com")
    bob = make_trader("iso03-b@example.com")
    account = alice.add_account("Alice's")
    async with GraphQLWebSocket.connect(bob.server, token=bob.token) as ws:
        assert codes(await refused(ws, {"accountId": account["id"]})) == ["NOT_FOUND"]
        assert codes(await refused(ws, {"accountId": str(uuid.uuid4())})) == ["NOT_FOUND"]
        # Bob has no account at all, so "the active one" is no one's either.
        assert codes(await refused(ws, {})) == ["BAD_USER_INPUT"]


async def test_iso03_a_subscriber_never_receives_another_users_events(
    make_trader, sandbox: SandboxHandle
) -> None:
    """ISO-03: A and B subscribe at once, each to their own account and to their own active
    account changes; A trades and switches accounts. B receives only B's snapshot."""
    alice = make_trader("iso03-c@example.com")
    bob = make_trader("iso03-d@example.com")
    a_main = alice.add_account("Main")
    a_other = alice.add_account("Other")
    b_account = bob.add_account("Bob's")
    async with (
        GraphQLWebSocket.connect(alice.server, token=alice.token) as a_ws,
        GraphQLWebSocket.connect(bob.server, token=bob.token) as b_ws,
    ):
        await a_ws.subscribe(ACCOUNT_UPDATES, {"accountId": a_main["id"]})
        await b_ws.subscribe(ACCOUNT_UPDATES, {"accountId": b_account["id"]})
        await b_ws.subscribe(ACTIVE_ACCOUNT_CHANGED)
        assert (await next_update(a_ws))["__typename"] == "SnapshotEvent"
        b_first = await next_update(b_ws)
        assert b_first["accountId"] == b_account["id"]
        for number in (alice.keys[a_main["id"]], bob.keys[b_account["id"]]):
            await wait_until(lambda n=number: stream_connections(sandbox, n["account_number"]) == 1)

        placed = await alice.server.agql(PLACE_ORDER, market_buy(a_main["id"]), token=alice.token)
        order_id = placed["data"]["placeOrder"]["id"]
        await updates_until(a_ws, order_event(order_id, "fill"))
        switched = await alice.server.agql(SET_ACTIVE, {"id": a_other["id"]}, token=alice.token)
        assert "errors" not in switched
        await asyncio.sleep(0.2)

        received = await drain(b_ws, 1.5)
        for message in received:
            data = message["payload"]["data"]
            assert "activeAccountChanged" not in data, data
            update = data.get("accountUpdates")
            assert update is not None and update["accountId"] == b_account["id"], message
            assert update["__typename"] == "SnapshotEvent", message
        assert order_id not in str(received)
        assert a_main["id"] not in str(received) and a_other["id"] not in str(received)
