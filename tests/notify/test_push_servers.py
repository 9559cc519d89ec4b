"""PUSH-03 across processes: two servers on one database, one fill, one notification.

Both `alpaca-chat serve` processes hear the fill on the event bus and both keep
the account's stream wanted (the device exists); only the one whose claim of
(event, device) wins sends it. The stand-in push service runs in this test's
event loop (tests/fixtures/push.py); the servers reach it over a real socket.
"""

from __future__ import annotations

import asyncio

from tests.fixtures.push import PUSH_ENV, BrowserKeys, stand_in_push_service
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import StartServer, signed_up_user
from tests.fixtures.trading import Trader, broker_env

ADD = """mutation($input: PushSubscriptionInput!) { addPushSubscription(input: $input) { id } }"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""


async def test_push03_two_servers_one_fill_one_notification(
    start_server: StartServer, sandbox: SandboxHandle, known_secrets: set[str]
) -> None:
    """PUSH-03, RT-02: every instance hears the fill; the device is notified exactly once."""
    env = {**broker_env(sandbox), **PUSH_ENV}
    async with stand_in_push_service() as push:
        first = await asyncio.to_thread(start_server, env=env)
        second = await asyncio.to_thread(start_server, first.database_url, env)
        token = await asyncio.to_thread(signed_up_user, first, "alice@example.com")
        alice = Trader(first, sandbox, token, known_secrets)
        account = await asyncio.to_thread(alice.add_account, "Main")
        keys = BrowserKeys()
        device = {"input": keys.subscription(push.endpoint("phone"))}
        await asyncio.to_thread(alice.data, ADD, device)
        # both processes keep the account's stream wanted: the second reads the device
        # within its watch interval, so give it the same head start as the first
        await asyncio.sleep(1)
        buy = {"accountId": account["id"], "symbol": "AAPL", "side": "BUY", "qty": "1"}
        order = (await asyncio.to_thread(alice.data, PLACE, {"input": buy}))["placeOrder"]

        (request,) = await push.wait_for("phone", seconds=30)
        notification = keys.decrypt(request.body)
        assert notification["tag"] == f"order-{order['id']}"
        await asyncio.sleep(3)  # a second send would have arrived by now
        assert len(push.for_device("phone")) == 1
        assert second.process.poll() is None
