"""ADM-01, AUTH-03 across server processes: disabling someone closes their WebSockets everywhere.

The admin disables a member through one server; the member's subscription is open on
another server process on the same database. The revocations are announced in the
disabling transaction, so that process closes the socket (4401) within a second.
"""

from __future__ import annotations

import time

from tests.fixtures.server import (
    GraphQLWebSocket,
    RunningServer,
    StartServer,
    signed_up_user,
    unique_email,
)

SESSION_EVENTS = "subscription { sessionEvents { user { email } } }"
ME = "{ me { id } }"
SET_DISABLED = "mutation($id: UUID!) { setUserDisabled(id: $id, disabled: true) }"


async def test_a_disabled_users_websocket_on_another_process_closes_within_a_second_ADM_01(
    server: RunningServer, start_server: StartServer
) -> None:
    second = start_server(server.database_url)
    member = signed_up_user(server, unique_email("member"))
    member_id = server.gql(ME, token=member)["data"]["me"]["id"]
    async with GraphQLWebSocket.connect(second, token=member) as ws:
        await ws.subscribe(SESSION_EVENTS)
        assert (await ws.receive())["type"] == "next"
        disabled = await server.agql(SET_DISABLED, {"id": member_id}, token=server.inviter_token)
        assert disabled == {"data": {"setUserDisabled": True}}
        started = time.monotonic()
        assert await ws.wait_closed(seconds=2) == 4401
        assert time.monotonic() - started < 1.0
    assert second.gql(ME, token=member)["data"]["me"] is None
