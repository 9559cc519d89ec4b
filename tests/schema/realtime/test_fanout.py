"""accountUpdates over graphql-transport-ws through the fan-out (schema/realtime/fanout.py).

The whole app on its ASGI interface (tests/fixtures/asgi_socket.py): Strawberry's
protocol handler, the group that runs and encodes each event once, and the
writes straight to each socket. Events are OrderEvents published on the real bus
(never coalesced, unlike snapshots), marked by their order id "marked-<n>"; the
account's own snapshots are left out of the comparisons. RT-01 (every event, in order, to every
subscriber, a slow one told to resync), ISO-03 (groups never mix owners),
AUTH-03 (a revoked session gets nothing more).
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from api.realtime.publish import publish_now
from schema.realtime.fanout import Fanout
from tests.fixtures.asgi_socket import AsgiSocket
from tests.fixtures.inprocess import InProcessApp
from tests.realtime.factories import order_event

UPDATES = """subscription Updates($a: UUID) {
  accountUpdates(accountId: $a) {
    __typename
    ... on SnapshotEvent { accountId snapshot { cash } }
    ... on OrderEvent { event order { id } }
    ... on ResyncEvent { accountId reason }
  } }"""
# the same subscription asking for less: another document, so another group
CASH_ONLY = """subscription($a: UUID) {
  accountUpdates(accountId: $a) { ... on OrderEvent { order { id } } } }"""
SIGN_OUT = "mutation { signOut }"
MARK = "marked-"


def _fanout(app: InProcessApp) -> Fanout:
    return app.endpoint.fanout


async def _publish(app: InProcessApp, owner: str, account: str, n: int) -> None:
    """An order event of order "marked-<n>"."""
    await publish_now(app.services.database, order_event(UUID(owner), UUID(account), f"{MARK}{n}"))


def _marked(message: dict[str, Any]) -> int | None:
    """n of a marked order event's `next`; None for anything else."""
    if message.get("type") != "next":
        return None
    order_id = message["payload"]["data"]["accountUpdates"].get("order", {}).get("id", "")
    return int(order_id.removeprefix(MARK)) if order_id.startswith(MARK) else None


async def _next_marked(socket: AsgiSocket, seconds: float = 5) -> tuple[str, int]:
    async with asyncio.timeout(seconds):
        while True:
            message = await socket.receive(seconds)
            assert message is not None, "the socket closed"
            n = _marked(message)
            if n is not None:
                return message["id"], n


async def _no_marked_within(socket: AsgiSocket, seconds: float) -> bool:
    """True when no marked event arrives for `seconds` (snapshots may)."""
    try:
        await _next_marked(socket, seconds)
    except TimeoutError:
        return True
    return False


async def _firsts(socket: AsgiSocket, operations: set[str]) -> dict[str, dict[str, Any]]:
    """The first message of each of `operations`, whatever order they come in."""
    firsts: dict[str, dict[str, Any]] = {}
    while firsts.keys() != operations:
        message = await socket.receive()
        assert message is not None, "the socket closed"
        firsts.setdefault(message["id"], message)
    return firsts


async def _first(socket: AsgiSocket) -> dict[str, Any]:
    message = await socket.receive()
    assert message is not None and message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message


async def test_rt01_like_subscribers_share_one_group_and_each_gets_every_event_in_order(
    app: InProcessApp,
) -> None:
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token)
    variables = {"a": account.id}
    async with (
        AsgiSocket.open(app.app, alice.token) as one,
        AsgiSocket.open(app.app, alice.token) as two,
    ):
        await one.subscribe("a", UPDATES, variables)
        await two.subscribe("b", UPDATES, variables)
        for socket, operation in ((one, "a"), (two, "b")):
            first = await _first(socket)
            assert first["id"] == operation
            assert first["payload"]["data"]["accountUpdates"]["__typename"] == "SnapshotEvent"
        assert _fanout(app).groups == 1

        for n in range(1, 6):
            await _publish(app, alice.id, account.id, n)
        for socket, operation in ((one, "a"), (two, "b")):
            got = [await _next_marked(socket) for _ in range(5)]
            assert got == [(operation, n) for n in range(1, 6)]

        await one.send({"id": "a", "type": "complete"})
        await _publish(app, alice.id, account.id, 6)
        assert await _next_marked(two) == ("b", 6)
        await two.send({"id": "b", "type": "complete"})
        async with asyncio.timeout(5):
            while _fanout(app).groups:  # noqa: ASYNC110 - nothing signals it
                await asyncio.sleep(0.01)
        assert await _no_marked_within(one, 0.3), "a completed operation got an event"


async def test_iso03_groups_never_mix_owners_or_documents(app: InProcessApp) -> None:
    alice, bob = await app.sign_up(), await app.sign_up()
    hers = await app.add_paper_account(alice.token)
    his = await app.add_paper_account(bob.token)
    async with (
        AsgiSocket.open(app.app, alice.token) as alices,
        AsgiSocket.open(app.app, bob.token) as bobs,
    ):
        await alices.subscribe("full", UPDATES, {"a": hers.id})
        await alices.subscribe("cash", CASH_ONLY, {"a": hers.id})
        await bobs.subscribe("his", UPDATES, {"a": his.id})
        await bobs.subscribe("hers", UPDATES, {"a": hers.id})
        firsts = {**await _firsts(alices, {"full", "cash"}), **await _firsts(bobs, {"his", "hers"})}
        # someone else's account: NOT_FOUND, as a result with errors, then complete
        refused = firsts["hers"]["payload"]
        assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert _fanout(app).groups == 3

        await _publish(app, alice.id, hers.id, 1)
        await _publish(app, bob.id, his.id, 2)
        seen = {await _next_marked(alices), await _next_marked(alices)}
        assert seen == {("full", 1), ("cash", 1)}
        assert await _next_marked(bobs) == ("his", 2)
        assert await _no_marked_within(bobs, 0.3), "bob got alice's event"


async def test_rt01_a_slow_socket_is_told_to_resync_and_never_holds_up_the_others(
    app: InProcessApp,
) -> None:
    alice = await app.sign_up()
    account = await app.add_paper_account(alice.token)
    _fanout(app).backlog_limit = 4
    async with (
        AsgiSocket.open(app.app, alice.token) as slow,
        AsgiSocket.open(app.app, alice.token) as fast,
    ):
        await slow.subscribe("s", UPDATES, {"a": account.id})
        await fast.subscribe("f", UPDATES, {"a": account.id})
        await _first(slow)
        await _first(fast)

        slow.pause()
        for n in range(1, 11):
            await _publish(app, alice.id, account.id, n)
            assert await _next_marked(fast) == ("f", n)
        slow.resume()

        received: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while not received or _marked(received[-1]) != 10:
                message = await slow.receive()
                assert message is not None
                received.append(message)
        updates = [m["payload"]["data"]["accountUpdates"] for m in received]
        resyncs = [i for i, u in enumerate(updates) if u["__typename"] == "ResyncEvent"]
        assert len(resyncs) == 1 and updates[resyncs[0]]["reason"] == "overflow"
        marked = [_marked(m) for m in received]
        # the one write under way when it stalled (event 1, or a snapshot the account's
        # own stream published first), then the resync, then what came after it
        assert resyncs[0] == 1 and marked[0] in (1, None)
        after = [n for n in marked[resyncs[0] + 1 :] if n is not None]
        assert after == list(range(after[0], 11)) and len(after) <= 4


async def test_auth03_a_signed_out_session_gets_nothing_more_and_the_other_carries_on(
    app: InProcessApp,
) -> None:
    alice = await app.sign_up()
    phone = await app.sign_in(alice.email)
    account = await app.add_paper_account(alice.token)
    async with (
        AsgiSocket.open(app.app, alice.token) as laptop,
        AsgiSocket.open(app.app, phone.token) as mobile,
    ):
        await laptop.subscribe("l", UPDATES, {"a": account.id})
        await mobile.subscribe("m", UPDATES, {"a": account.id})
        await _first(laptop)
        await _first(mobile)
        assert _fanout(app).groups == 1

        await app.data(SIGN_OUT, token=phone.token)
        async with asyncio.timeout(5):
            while (message := await mobile.receive()) is not None:
                assert _marked(message) is None, "a signed-out session got an event"
        await _publish(app, alice.id, account.id, 1)
        assert await _next_marked(laptop) == ("l", 1)
