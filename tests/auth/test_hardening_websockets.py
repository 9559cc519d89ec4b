"""WebSockets are capped per user and per client address, and a socket that never signs in
is closed (AUTH-03, ISO-03: nobody holds unbounded server resources). The caps are set low
through the server's environment (WS_MAX_PER_USER, WS_MAX_PER_ADDRESS, WS_SIGN_IN_TIMEOUT)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AsyncExitStack

import pytest
from websockets.exceptions import InvalidStatus

from tests.fixtures.server import (
    GraphQLWebSocket,
    RunningServer,
    serve_shared,
    signed_up_user,
    unique_email,
)

PER_USER = 2
PER_ADDRESS = 4


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    env = {
        "WS_MAX_PER_USER": str(PER_USER),
        "WS_MAX_PER_ADDRESS": str(PER_ADDRESS),
        "WS_SIGN_IN_TIMEOUT": "1",
    }
    yield from serve_shared(module_database_url, tmp_path_factory.mktemp("ws-caps"), env)


async def test_a_socket_that_never_signs_in_is_closed_AUTH_03(server: RunningServer) -> None:
    async with GraphQLWebSocket.connect(server) as ws:
        started = time.monotonic()
        assert await ws.wait_closed(seconds=5) == 4401
    assert time.monotonic() - started < 4


async def test_sockets_per_user_are_capped_and_freed_on_close_ISO_03(
    server: RunningServer,
) -> None:
    token = signed_up_user(server, unique_email("sockets"))
    async with AsyncExitStack() as stack:
        for _ in range(PER_USER):
            await stack.enter_async_context(GraphQLWebSocket.connect(server, token=token))
        async with GraphQLWebSocket.connect(server, token=token, acknowledge=False) as extra:
            assert await extra.wait_closed() == 4403
        # another user is not affected by this one's sockets
        other = signed_up_user(server, unique_email("other"))
        async with GraphQLWebSocket.connect(server, token=other):
            pass
    # closed sockets no longer count
    async with GraphQLWebSocket.connect(server, token=token) as again:
        operation = await again.subscribe("subscription { sessionEvents { user { id } } }")
        assert (await again.receive())["id"] == operation


async def test_sockets_per_address_are_capped_at_the_handshake(server: RunningServer) -> None:
    tokens = [signed_up_user(server, unique_email("address")) for _ in range(PER_ADDRESS)]
    async with AsyncExitStack() as stack:
        for token in tokens:
            await stack.enter_async_context(GraphQLWebSocket.connect(server, token=token))
        with pytest.raises(InvalidStatus) as refused:
            async with GraphQLWebSocket.connect(server, token=tokens[0]):
                pass
        assert refused.value.response.status_code == 403
    async with GraphQLWebSocket.connect(server, token=tokens[0]):
        pass
